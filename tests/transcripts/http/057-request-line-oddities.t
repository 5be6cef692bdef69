# Extra spaces and a space inside the target are tolerated and flagged; lower-case version flagged.
>>>
GET  /a b  HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0


>>>
GET /c http/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0


