# WebDAV and custom method tokens are requests like any other.
>>>
PROPFIND /dav/ HTTP/1.1
Host: api.example.com
Depth: 1
Content-Length: 0


<<<
HTTP/1.1 207 Multi-Status
Content-Type: application/xml
Content-Length: 15

<multistatus/>

>>>
BREW /pot HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 418 I'm a teapot
Content-Length: 0


