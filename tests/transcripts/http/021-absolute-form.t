# Absolute-form target (proxy request): path, query and authority from the target.
>>>
GET http://Proxy.Example.com:80/path/x?q=1 HTTP/1.1
Host: proxy.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0


