# HEAD: the response has Content-Length but no body; the next response follows at once.
>>>
HEAD /file HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 1000
Content-Type: application/octet-stream


>>>
GET /next HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 2

ok
