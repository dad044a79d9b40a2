throw new Error("configuration file missing");
