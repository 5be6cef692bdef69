# Bodies over body_inspect_bytes (16 here): counted in full, kept up to the cap.
#! config {"body_inspect_bytes": 16}
>>>
POST /upload HTTP/1.1
Host: api.example.com
Content-Length: 100

xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
<<<
HTTP/1.1 200 OK
Content-Length: 50

yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy
