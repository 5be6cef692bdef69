# A GET with a query, a Content-Length response.
>>>
GET /hello?name=x HTTP/1.1
Host: Example.COM
User-Agent: t


<<<
HTTP/1.1 200 OK
Content-Type: text/plain
Content-Length: 12

Hello World!
