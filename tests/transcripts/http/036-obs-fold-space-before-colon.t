# Whitespace before a colon and an obs-folded header are tolerated and flagged.
>>>
GET /fold HTTP/1.1
Host : api.example.com
X-Folded: part one
  part two


<<<
HTTP/1.1 200 OK
Content-Length: 0
X-Long: a
	b


