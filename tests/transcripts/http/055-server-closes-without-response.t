# The server closes without answering the second request.
>>>
GET /1 HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0


>>>
GET /2 HTTP/1.1
Host: api.example.com


