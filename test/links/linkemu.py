#!/usr/bin/python3
"""
A link emulator in user space: an Ethernet bridge between two interfaces that delays,
jitters, drops and rate-limits frames, per direction. It does what `tc qdisc … netem`
does, for kernels built without sch_netem (some VM and container kernels have no
modules at all); test/helpers/netns.ts runs it in a "router" namespace between the
gateway's and the broker's veth pairs. No IP addresses live in that namespace: the
kernel ignores the frames, this process copies them across.

Usage: linkemu.py IFACE_A IFACE_B. Control on stdin, one JSON object per line:
  {"dir": "ab"|"ba", "delay_ms": 150, "jitter_ms": 20, "loss": 0.01, "rate_kbit": 200, "limit": 1000}
(ab: frames arriving on A, sent out of B). Each command is answered on stdout with
{"ok": true, "stats": {...}} once applied; {"stats": true} only reports. End of stdin ends it.

Model per direction (FIFO, never reorders, like netem with a rate):
- loss: each frame is dropped with probability `loss` on arrival;
- rate: a frame occupies the link for (bytes + 24 framing) * 8 / rate seconds after
  the previous one; a queue longer than `limit` frames drops on arrival (tail drop);
- delay ± jitter (uniform) is added after the transmission.
Frames the local stack left with a partial checksum (veth checksum offload) get a
full IPv4 TCP/UDP checksum before they are sent on, as a real wire would carry them.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import time
from array import array

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_CSUMNOTREADY = 8
AUX = struct.Struct('=IIIHHHH')


def open_sock(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def ones_sum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(array('H', data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def fix_checksum(frame):
    """Full TCP/UDP checksum for an IPv4 frame whose checksum the sender left partial."""
    if len(frame) < 34 or frame[12:14] != b'\x08\x00':
        return frame
    ihl = (frame[14] & 0x0F) * 4
    proto = frame[23]
    total = struct.unpack_from('!H', frame, 16)[0]
    start = 14 + ihl
    l4len = total - ihl
    off = {6: 16, 17: 6}.get(proto)
    if off is None or l4len < off + 2 or start + l4len > len(frame):
        return frame
    buf = bytearray(frame)
    struct.pack_into('=H', buf, start + off, 0)
    pseudo = bytes(frame[26:34]) + struct.pack('!BBH', 0, proto, l4len)
    s = ones_sum(pseudo + bytes(buf[start:start + l4len]))
    c = (~s) & 0xFFFF
    if proto == 17 and c == 0:
        c = 0xFFFF
    struct.pack_into('=H', buf, start + off, c)
    return bytes(buf)


class Direction:
    def __init__(self, out):
        self.out = out
        self.delay = self.jitter = self.loss = self.rate = 0.0
        self.limit = 1000
        self.q = []
        self.head = 0
        self.busy = 0.0
        self.last = 0.0
        self.stats = {'in': 0, 'out': 0, 'lost': 0, 'overflow': 0, 'send_errors': 0}

    def configure(self, c):
        self.delay = max(0.0, c.get('delay_ms', 0) / 1000)
        self.jitter = max(0.0, c.get('jitter_ms', 0) / 1000)
        self.loss = min(1.0, max(0.0, c.get('loss', 0)))
        self.rate = max(0.0, c.get('rate_kbit', 0) * 1000)
        self.limit = int(c.get('limit', 1000))

    def push(self, frame, now):
        self.stats['in'] += 1
        if self.loss > 0 and random.random() < self.loss:
            self.stats['lost'] += 1
            return
        if len(self.q) - self.head >= self.limit:
            self.stats['overflow'] += 1
            return
        t = now
        if self.rate > 0:
            self.busy = max(now, self.busy) + (len(frame) + 24) * 8 / self.rate
            t = self.busy
        d = self.delay + (random.uniform(-self.jitter, self.jitter) if self.jitter else 0.0)
        t = max(t + max(d, 0.0), self.last)
        self.last = t
        self.q.append((t, frame))

    def flush(self, now):
        q = self.q
        while self.head < len(q) and q[self.head][0] <= now:
            try:
                self.out.send(q[self.head][1])
                self.stats['out'] += 1
            except OSError:
                self.stats['send_errors'] += 1
            self.head += 1
        if self.head > 4096 or self.head == len(q):
            del q[:self.head]
            self.head = 0

    def next_due(self):
        return self.q[self.head][0] if self.head < len(self.q) else None


def main():
    if len(sys.argv) != 3:
        sys.stderr.write('usage: linkemu.py IFACE_A IFACE_B\n')
        sys.exit(2)
    sa, sb = open_sock(sys.argv[1]), open_sock(sys.argv[2])
    dirs = {sa: Direction(sb), sb: Direction(sa)}
    named = {'ab': dirs[sa], 'ba': dirs[sb]}
    aux_space = socket.CMSG_SPACE(AUX.size)
    print(json.dumps({'ready': True}), flush=True)
    pending = b''
    while True:
        dues = [d for d in (x.next_due() for x in dirs.values()) if d is not None]
        now = time.monotonic()
        timeout = max(0.0, min(dues) - now) if dues else 1.0
        ready, _, _ = select.select([sa, sb, sys.stdin], [], [], timeout)
        now = time.monotonic()
        for s in ready:
            if s is sys.stdin:
                chunk = os.read(sys.stdin.fileno(), 65536)
                if not chunk:
                    return
                pending += chunk
                while b'\n' in pending:
                    line, pending = pending.split(b'\n', 1)
                    if not line.strip():
                        continue
                    cmd = json.loads(line)
                    if 'dir' in cmd:
                        named[cmd['dir']].configure(cmd)
                    print(json.dumps({'ok': True, 'stats': {k: v.stats for k, v in named.items()}}), flush=True)
                continue
            d = dirs[s]
            for _ in range(512):
                try:
                    frame, anc, _flags, addr = s.recvmsg(65536, aux_space)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                for level, kind, data in anc:
                    if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= AUX.size:
                        if AUX.unpack_from(data)[0] & TP_STATUS_CSUMNOTREADY:
                            frame = fix_checksum(frame)
                d.push(frame, now)
        for d in dirs.values():
            d.flush(time.monotonic())


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
