/** The password of every user the factories create; the global setup hashes it once per run (Node, no Workers imports here). */
export const TEST_PASSWORD = "correct horse battery staple";
