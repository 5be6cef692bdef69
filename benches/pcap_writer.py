"""A minimal pcap writer for the bench generators (real_specs, heldout_sensitive): each
call is one TCP connection (handshake, request, response, FIN both ways) between IPv4
addresses on port 80, in Ethernet frames with valid checksums."""
import struct


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Pcap:
    def __init__(self, path, rng):
        self.rng = rng
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.ts = 1_767_225_600_000_000

    def pkt(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        self.ts += 50
        ip_src, ip_dst = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
        pseudo = ip_src + ip_dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0, ip_src, ip_dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip + tcp + payload
        self.f.write(struct.pack("<IIII", self.ts // 1_000_000, self.ts % 1_000_000, len(frame), len(frame)))
        self.f.write(frame)

    def conn(self, client, cport, server, req, resp):
        c, s = self.rng.randrange(1 << 32), self.rng.randrange(1 << 32)
        self.pkt(client, server, cport, 80, c, 0, 0x02)
        self.pkt(server, client, 80, cport, s, c + 1, 0x12)
        self.pkt(client, server, cport, 80, c + 1, s + 1, 0x10)
        cs, ss = c + 1, s + 1
        for i in range(0, len(req), 1400):
            self.pkt(client, server, cport, 80, cs, ss, 0x18, req[i:i + 1400]); cs += len(req[i:i + 1400])
        for i in range(0, len(resp), 1400):
            self.pkt(server, client, 80, cport, ss, cs, 0x18, resp[i:i + 1400]); ss += len(resp[i:i + 1400])
        self.pkt(client, server, cport, 80, cs, ss, 0x11)
        self.pkt(server, client, 80, cport, ss, cs + 1, 0x11)
        self.pkt(client, server, cport, 80, cs + 1, ss + 1, 0x10)

    def close(self):
        self.f.close()
