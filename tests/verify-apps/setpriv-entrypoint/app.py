"""Prints who it runs as: the entrypoint drops root with setpriv first."""
import os
import pwd

print("running as", pwd.getpwuid(os.getuid()).pw_name)
