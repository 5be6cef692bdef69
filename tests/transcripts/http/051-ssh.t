# SSH: the server speaks first with a banner, not HTTP.
<<<
SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6

>>>
SSH-2.0-OpenSSH_9.6

