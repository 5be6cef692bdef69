# Three requests on one keep-alive connection, each answered before the next.
>>>
GET /a HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 1

a
>>>
GET /b?x=1 HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 404 Not Found
Content-Length: 9

not found
>>>
POST /c HTTP/1.1
Host: api.example.com
Content-Type: application/json
Content-Length: 5

hello
<<<
HTTP/1.1 201 Created
Content-Length: 0


