"""Local fake Jira and Port servers: the tests' fakes and the sandbox users can try."""
