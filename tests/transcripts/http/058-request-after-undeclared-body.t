# A GET sends a body without Content-Length: the next request glued to it is found again.
>>>
GET /a HTTP/1.1
Host: api.example.com

{"q":1}GET /b HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0

HTTP/1.1 200 OK
Content-Length: 0


