# A response Content-Length that is not a number: read until the close.
>>>
GET /x HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: abc

body until close
