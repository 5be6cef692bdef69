# Expect: 100-continue, the interim 100, the body, the final 200.
>>>
POST /upload HTTP/1.1
Host: api.example.com
Expect: 100-continue
Content-Length: 4


<<<
HTTP/1.1 100 Continue


>>>
data
<<<
HTTP/1.1 200 OK
Content-Length: 2

ok
