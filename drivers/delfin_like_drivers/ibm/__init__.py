"""IBM drivers: Storwize / SAN Volume Controller over the SSH CLI (``ibm svc_ssh``)."""
