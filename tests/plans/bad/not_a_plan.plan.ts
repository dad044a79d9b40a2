export default { users: { u: { tasks: { t: () => {} } } } };
