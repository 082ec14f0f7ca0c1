"""Staff accounts (工作人员账号): password login, throttling of failed logins. Console menu 账号."""
