# 204 No Content has no body.
>>>
DELETE /items/1 HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 204 No Content


>>>
GET /items HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 2

[]
