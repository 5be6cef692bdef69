# A server gap inside a response head: the status is kept, the next response found.
>>>
GET /1 HTTP/1.1
Host: api.example.com

GET /2 HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Type: text/plain
Content-Le
<><
------------------------------
<<<
ngth: 5

helloHTTP/1.1 201 Created
Content-Length: 0


