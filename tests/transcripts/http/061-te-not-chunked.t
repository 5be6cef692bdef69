# Transfer-Encoding other than chunked on a response: flagged; Content-Length is used.
>>>
GET /te HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Transfer-Encoding: identity
Content-Length: 3

abc
>>>
GET /next HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0


