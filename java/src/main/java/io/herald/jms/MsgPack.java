package io.herald.jms;

import java.util.Arrays;
import java.nio.charset.StandardCharsets;

/**
 * The small part of MessagePack that herald-core's encoding (rmp-serde) uses: nil,
 * booleans, integers, float32/64, strings, bin, arrays and maps.
 */
final class MsgPack {
    private MsgPack() {}

    static final class Writer {
        /** A plain growable buffer: ByteArrayOutputStream synchronizes every write. */
        private final Buf out;

        Writer() {
            this(256);
        }

        /** A writer whose buffer starts at {@code capacity} bytes (a good guess saves regrowing). */
        Writer(int capacity) {
            out = new Buf(Math.max(16, capacity));
        }

        private static final class Buf {
            byte[] b;
            int n;

            Buf(int capacity) {
                b = new byte[capacity];
            }

            void ensure(int more) {
                if (n + more > b.length) b = Arrays.copyOf(b, Math.max(b.length * 2, n + more));
            }

            void write(int x) {
                ensure(1);
                b[n++] = (byte) x;
            }

            void write(byte[] src, int off, int len) {
                ensure(len);
                System.arraycopy(src, off, b, n, len);
                n += len;
            }
        }

        byte[] toByteArray() {
            return Arrays.copyOf(out.b, out.n);
        }

        /** The buffer itself: its first {@link #length()} bytes are what was written. */
        byte[] buffer() {
            return out.b;
        }

        int length() {
            return out.n;
        }

        void nil() {
            out.write(0xc0);
        }

        void bool(boolean b) {
            out.write(b ? 0xc3 : 0xc2);
        }

        void integer(long v) {
            if (v >= 0) {
                if (v < 128) {
                    out.write((int) v);
                } else if (v < 256) {
                    out.write(0xcc);
                    out.write((int) v);
                } else if (v < 65536) {
                    out.write(0xcd);
                    be(v, 2);
                } else if (v < 4294967296L) {
                    out.write(0xce);
                    be(v, 4);
                } else {
                    out.write(0xcf);
                    be(v, 8);
                }
            } else if (v >= -32) {
                out.write((int) (v & 0xff));
            } else if (v >= Byte.MIN_VALUE) {
                out.write(0xd0);
                out.write((int) (v & 0xff));
            } else if (v >= Short.MIN_VALUE) {
                out.write(0xd1);
                be(v, 2);
            } else if (v >= Integer.MIN_VALUE) {
                out.write(0xd2);
                be(v, 4);
            } else {
                out.write(0xd3);
                be(v, 8);
            }
        }

        void float32(float f) {
            out.write(0xca);
            be(Float.floatToRawIntBits(f) & 0xffffffffL, 4);
        }

        void float64(double d) {
            out.write(0xcb);
            be(Double.doubleToRawLongBits(d), 8);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            int n = b.length;
            if (n < 32) {
                out.write(0xa0 | n);
            } else if (n < 256) {
                out.write(0xd9);
                out.write(n);
            } else if (n < 65536) {
                out.write(0xda);
                be(n, 2);
            } else {
                out.write(0xdb);
                be(n, 4);
            }
            out.write(b, 0, n);
        }

        void stringOrNil(String s) {
            if (s == null) {
                nil();
            } else {
                string(s);
            }
        }

        void bin(byte[] b) {
            int n = b.length;
            if (n < 256) {
                out.write(0xc4);
                out.write(n);
            } else if (n < 65536) {
                out.write(0xc5);
                be(n, 2);
            } else {
                out.write(0xc6);
                be(n, 4);
            }
            out.write(b, 0, n);
        }


        void arrayHeader(int n) {
            if (n < 16) {
                out.write(0x90 | n);
            } else if (n < 65536) {
                out.write(0xdc);
                be(n, 2);
            } else {
                out.write(0xdd);
                be(n, 4);
            }
        }

        void mapHeader(int n) {
            if (n < 16) {
                out.write(0x80 | n);
            } else if (n < 65536) {
                out.write(0xde);
                be(n, 2);
            } else {
                out.write(0xdf);
                be(n, 4);
            }
        }

        private void be(long v, int bytes) {
            for (int i = bytes - 1; i >= 0; i--) {
                out.write((int) (v >>> (8 * i)) & 0xff);
            }
        }
    }

    static final class Reader {
        private final byte[] buf;
        private int pos;

        Reader(byte[] buf) {
            this.buf = buf;
        }

        private IllegalArgumentException bad(String what) {
            return new IllegalArgumentException("malformed message encoding at byte " + pos + ": " + what);
        }

        private int u8() {
            if (pos >= buf.length) {
                throw bad("unexpected end");
            }
            return buf[pos++] & 0xff;
        }

        private long be(int bytes) {
            long v = 0;
            for (int i = 0; i < bytes; i++) {
                v = (v << 8) | u8();
            }
            return v;
        }

        private int peek() {
            if (pos >= buf.length) {
                throw bad("unexpected end");
            }
            return buf[pos] & 0xff;
        }

        boolean atEnd() {
            return pos == buf.length;
        }

        boolean tryNil() {
            if (peek() == 0xc0) {
                pos++;
                return true;
            }
            return false;
        }

        boolean isString() {
            int b = peek();
            return (b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb;
        }

        boolean isMap() {
            int b = peek();
            return (b & 0xf0) == 0x80 || b == 0xde || b == 0xdf;
        }

        boolean bool() {
            int b = u8();
            if (b == 0xc3) return true;
            if (b == 0xc2) return false;
            pos--;
            throw bad("expected a boolean");
        }

        long integer() {
            int b = u8();
            if (b < 0x80) return b;
            if (b >= 0xe0) return (byte) b;
            switch (b) {
                case 0xcc: return be(1);
                case 0xcd: return be(2);
                case 0xce: return be(4);
                case 0xcf: return be(8);
                case 0xd0: return (byte) be(1);
                case 0xd1: return (short) be(2);
                case 0xd2: return (int) be(4);
                case 0xd3: return be(8);
                default:
                    pos--;
                    throw bad("expected an integer");
            }
        }

        double floating() {
            int b = u8();
            if (b == 0xca) return Float.intBitsToFloat((int) be(4));
            if (b == 0xcb) return Double.longBitsToDouble(be(8));
            pos--;
            return integer();
        }

        String string() {
            int b = u8();
            int n;
            if ((b & 0xe0) == 0xa0) n = b & 0x1f;
            else if (b == 0xd9) n = (int) be(1);
            else if (b == 0xda) n = (int) be(2);
            else if (b == 0xdb) n = (int) be(4);
            else {
                pos--;
                throw bad("expected a string");
            }
            if (n < 0 || pos + n > buf.length) throw bad("string overruns the buffer");
            String s = new String(buf, pos, n, StandardCharsets.UTF_8);
            pos += n;
            return s;
        }

        String stringOrNil() {
            return tryNil() ? null : string();
        }

        /**
         * A string that is usually one of {@code known} (an enum variant's name): returns
         * that constant without decoding or allocating, or a new String otherwise.
         */
        String symbol(String[] known) {
            int b = peek();
            if ((b & 0xe0) == 0xa0) {
                int n = b & 0x1f;
                if (pos + 1 + n <= buf.length) {
                    for (String k : known) {
                        if (k.length() == n && asciiAt(pos + 1, k)) {
                            pos += 1 + n;
                            return k;
                        }
                    }
                }
            }
            return string();
        }

        private boolean asciiAt(int at, String ascii) {
            for (int i = 0; i < ascii.length(); i++) {
                if (buf[at + i] != (byte) ascii.charAt(i)) return false;
            }
            return true;
        }

        /** A bin value, or an array of byte-sized integers (serde's {@code Vec<u8>}). */
        byte[] bytes() {
            int b = peek();
            if (b == 0xc4 || b == 0xc5 || b == 0xc6) {
                pos++;
                int n = (int) be(b == 0xc4 ? 1 : b == 0xc5 ? 2 : 4);
                if (n < 0 || pos + n > buf.length) throw bad("bin overruns the buffer");
                byte[] out = new byte[n];
                System.arraycopy(buf, pos, out, 0, n);
                pos += n;
                return out;
            }
            int n = arrayHeader();
            if (n > buf.length - pos) throw bad("byte array overruns the buffer");
            byte[] out = new byte[n];
            for (int i = 0; i < n; i++) {
                int x = pos < buf.length ? buf[pos] & 0xff : -1;
                if (x >= 0 && x < 0x80) {
                    out[i] = (byte) x;
                    pos++;
                } else if (x == 0xcc && pos + 1 < buf.length) {
                    out[i] = buf[pos + 1];
                    pos += 2;
                } else {
                    out[i] = (byte) integer();
                }
            }
            return out;
        }

        int arrayHeader() {
            int b = u8();
            if ((b & 0xf0) == 0x90) return b & 0x0f;
            if (b == 0xdc) return (int) be(2);
            if (b == 0xdd) return (int) be(4);
            pos--;
            throw bad("expected an array");
        }

        int mapHeader() {
            int b = u8();
            if ((b & 0xf0) == 0x80) return b & 0x0f;
            if (b == 0xde) return (int) be(2);
            if (b == 0xdf) return (int) be(4);
            pos--;
            throw bad("expected a map");
        }
    }
}
