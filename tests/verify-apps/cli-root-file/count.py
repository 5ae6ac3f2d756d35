"""A command, not a server: counts the accounts in /etc/shadow (root only)."""
with open("/etc/shadow") as shadow:
    print(len(shadow.read().splitlines()), "accounts")
