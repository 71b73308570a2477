package io.herald.interop;

import java.util.Arrays;
import java.util.Objects;

import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.Destination;
import javax.jms.JMSException;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageEOFException;
import javax.jms.MessageProducer;
import javax.jms.ObjectMessage;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.StreamMessage;
import javax.jms.TextMessage;

import io.herald.jms.HeraldConnectionFactory;

/**
 * The Java side of the cross-language exchange, the peer of c-api/tests/interop.c: the
 * same fixed set of messages (every body kind, every property type, the settable headers),
 * sent or checked the same way.
 *
 * <pre>
 *   Interop send URL QUEUE       sends the set
 *   Interop receive URL QUEUE    receives the set and checks every field
 *   Interop roundtrip URL QUEUE  both, in this process (vm:// works)
 * </pre>
 *
 * The set, in order (all to QUEUE, priority 7, JMSCorrelationID "interop-N" for message
 * N = 1..6, JMSType "interop", JMSReplyTo queue "interop.replies"), each with the
 * properties pBool=true, pByte=-7, pShort=-300, pInt=123456, pLong=2^40, pFloat=1.5,
 * pDouble=-2.25, pString="sträng" and pIndex=N (int):
 * <ol>
 *   <li>TextMessage "héllo, interop ✓"</li>
 *   <li>BytesMessage the 256 bytes 0..255</li>
 *   <li>MapMessage bool=true, byte=-8, short=-16, char='é' (U+00E9), int=32, long=2^40,
 *       float=0.5, double=0.25, string="map", bytes={1,2,3}</li>
 *   <li>StreamMessage the same ten values in that order</li>
 *   <li>ObjectMessage the String "interop" (Java serialization)</li>
 *   <li>Message (no body)</li>
 * </ol>
 * Prints "interop: N passed, M failed" and exits 1 when a check failed.
 */
public final class Interop {
    static final String TEXT = "h\u00e9llo, interop \u2713";
    static final String PSTRING = "str\u00e4ng";
    static final char CHAR = '\u00e9';
    static final long LONG_VALUE = 1L << 40;
    static final byte[] SMALL_BYTES = {1, 2, 3};
    /** java.io.ObjectOutputStream of the String "interop", as the C side sends and checks it. */
    static final byte[] OBJECT = {(byte) 0xac, (byte) 0xed, 0x00, 0x05, 0x74, 0x00, 0x07, 'i', 'n', 't', 'e', 'r', 'o', 'p'};
    static final String[] KINDS = {"TextMessage", "BytesMessage", "MapMessage", "StreamMessage", "ObjectMessage", "Message"};

    private int passed;
    private int failed;

    private void check(boolean ok, String what) {
        if (ok) {
            passed++;
        } else {
            failed++;
            System.err.println("interop: check failed: " + what);
        }
    }

    private void checkEquals(Object got, Object want, String what) {
        check(Objects.equals(got, want), what + ": got " + describe(got) + ", expected " + describe(want));
    }

    private static String describe(Object o) {
        if (o == null) return "null";
        if (o instanceof byte[]) return Arrays.toString((byte[]) o);
        return o.getClass().getSimpleName() + " " + o;
    }

    /** Runs one JMS call as a check: an exception is a failure, reported with its message. */
    private interface Step {
        void run() throws Exception;
    }

    private void step(String what, Step step) {
        try {
            step.run();
            passed++;
        } catch (Exception e) {
            failed++;
            System.err.println("interop: " + what + " threw " + e);
        }
    }

    private static void fill(Message m, int index, Destination replyTo) throws JMSException {
        m.setJMSCorrelationID("interop-" + index);
        m.setJMSType("interop");
        m.setJMSReplyTo(replyTo);
        m.setBooleanProperty("pBool", true);
        m.setByteProperty("pByte", (byte) -7);
        m.setShortProperty("pShort", (short) -300);
        m.setIntProperty("pInt", 123456);
        m.setLongProperty("pLong", LONG_VALUE);
        m.setFloatProperty("pFloat", 1.5f);
        m.setDoubleProperty("pDouble", -2.25);
        m.setStringProperty("pString", PSTRING);
        m.setIntProperty("pIndex", index);
    }

    static void sendSet(String url, String queueName) throws JMSException {
        try (Connection c = new HeraldConnectionFactory(url).createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue(queueName);
            Queue replies = s.createQueue("interop.replies");
            MessageProducer p = s.createProducer(q);
            p.setPriority(7);

            TextMessage text = s.createTextMessage(TEXT);

            BytesMessage bytes = s.createBytesMessage();
            byte[] all = new byte[256];
            for (int b = 0; b < 256; b++) all[b] = (byte) b;
            bytes.writeBytes(all);

            MapMessage map = s.createMapMessage();
            map.setBoolean("bool", true);
            map.setByte("byte", (byte) -8);
            map.setShort("short", (short) -16);
            map.setChar("char", CHAR);
            map.setInt("int", 32);
            map.setLong("long", LONG_VALUE);
            map.setFloat("float", 0.5f);
            map.setDouble("double", 0.25);
            map.setString("string", "map");
            map.setBytes("bytes", SMALL_BYTES);

            StreamMessage stream = s.createStreamMessage();
            stream.writeBoolean(true);
            stream.writeByte((byte) -8);
            stream.writeShort((short) -16);
            stream.writeChar(CHAR);
            stream.writeInt(32);
            stream.writeLong(LONG_VALUE);
            stream.writeFloat(0.5f);
            stream.writeDouble(0.25);
            stream.writeString("map");
            stream.writeBytes(SMALL_BYTES);

            ObjectMessage object = s.createObjectMessage("interop");

            Message plain = s.createMessage();

            Message[] set = {text, bytes, map, stream, object, plain};
            for (int i = 0; i < set.length; i++) {
                fill(set[i], i + 1, replies);
                p.send(set[i]);
            }
        }
    }

    private void checkCommon(Message m, int index) throws JMSException {
        checkEquals(m.getJMSCorrelationID(), "interop-" + index, "JMSCorrelationID");
        checkEquals(m.getJMSType(), "interop", "JMSType");
        Destination replyTo = m.getJMSReplyTo();
        check(replyTo instanceof Queue, "JMSReplyTo is a Queue: " + replyTo);
        if (replyTo instanceof Queue) checkEquals(((Queue) replyTo).getQueueName(), "interop.replies", "JMSReplyTo name");
        checkEquals(m.getJMSPriority(), 7, "JMSPriority");
        String id = m.getJMSMessageID();
        check(id != null && id.startsWith("ID:"), "JMSMessageID starts with ID: (" + id + ")");
        // The typed getters, then the object each property arrived as: its type survives.
        checkEquals(m.getBooleanProperty("pBool"), true, "pBool");
        checkEquals(m.getByteProperty("pByte"), (byte) -7, "pByte");
        checkEquals(m.getShortProperty("pShort"), (short) -300, "pShort");
        checkEquals(m.getIntProperty("pInt"), 123456, "pInt");
        checkEquals(m.getLongProperty("pLong"), LONG_VALUE, "pLong");
        checkEquals(m.getFloatProperty("pFloat"), 1.5f, "pFloat");
        checkEquals(m.getDoubleProperty("pDouble"), -2.25, "pDouble");
        checkEquals(m.getStringProperty("pString"), PSTRING, "pString");
        checkEquals(m.getIntProperty("pIndex"), index, "pIndex");
        checkEquals(m.getObjectProperty("pBool"), Boolean.TRUE, "pBool as object");
        checkEquals(m.getObjectProperty("pByte"), (byte) -7, "pByte as object");
        checkEquals(m.getObjectProperty("pShort"), (short) -300, "pShort as object");
        checkEquals(m.getObjectProperty("pInt"), 123456, "pInt as object");
        checkEquals(m.getObjectProperty("pLong"), LONG_VALUE, "pLong as object");
        checkEquals(m.getObjectProperty("pFloat"), 1.5f, "pFloat as object");
        checkEquals(m.getObjectProperty("pDouble"), -2.25, "pDouble as object");
        checkEquals(m.getObjectProperty("pIndex"), index, "pIndex as object");
    }

    private static String kind(Message m) {
        if (m instanceof TextMessage) return "TextMessage";
        if (m instanceof BytesMessage) return "BytesMessage";
        if (m instanceof MapMessage) return "MapMessage";
        if (m instanceof StreamMessage) return "StreamMessage";
        if (m instanceof ObjectMessage) return "ObjectMessage";
        return "Message";
    }

    void receiveSet(String url, String queueName) throws JMSException {
        try (Connection c = new HeraldConnectionFactory(url).createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer k = s.createConsumer(s.createQueue(queueName));
            c.start();
            for (int i = 0; i < KINDS.length; i++) {
                int index = i + 1;
                Message m = k.receive(10000);
                check(m != null, "message " + index + " (" + KINDS[i] + ") arrived within 10 s");
                if (m == null) break;
                checkEquals(kind(m), KINDS[i], "message " + index + " body kind");
                step("message " + index + " headers and properties", () -> checkCommon(m, index));
                step("message " + index + " body", () -> checkBody(m));
            }
        }
    }

    private void checkBody(Message m) throws JMSException {
        if (m instanceof TextMessage) {
            checkEquals(((TextMessage) m).getText(), TEXT, "text");
        } else if (m instanceof BytesMessage) {
            BytesMessage b = (BytesMessage) m;
            checkEquals(b.getBodyLength(), 256L, "bytes length");
            byte[] data = new byte[300];
            int n = b.readBytes(data);
            checkEquals(n, 256, "bytes read");
            boolean same = true;
            for (int i = 0; i < 256; i++) same &= data[i] == (byte) i;
            check(same, "bytes are 0..255");
        } else if (m instanceof MapMessage) {
            MapMessage map = (MapMessage) m;
            checkEquals(map.getBoolean("bool"), true, "map bool");
            checkEquals(map.getByte("byte"), (byte) -8, "map byte");
            checkEquals(map.getShort("short"), (short) -16, "map short");
            checkEquals(map.getChar("char"), CHAR, "map char");
            checkEquals(map.getInt("int"), 32, "map int");
            checkEquals(map.getLong("long"), LONG_VALUE, "map long");
            checkEquals(map.getFloat("float"), 0.5f, "map float");
            checkEquals(map.getDouble("double"), 0.25, "map double");
            checkEquals(map.getString("string"), "map", "map string");
            check(Arrays.equals(map.getBytes("bytes"), SMALL_BYTES), "map bytes: " + describe(map.getBytes("bytes")));
            checkEquals(map.getObject("byte"), (byte) -8, "map byte as object");
            checkEquals(map.getObject("short"), (short) -16, "map short as object");
            checkEquals(map.getObject("char"), CHAR, "map char as object");
            checkEquals(map.getObject("float"), 0.5f, "map float as object");
        } else if (m instanceof StreamMessage) {
            StreamMessage st = (StreamMessage) m;
            checkEquals(st.readBoolean(), true, "stream bool");
            checkEquals(st.readByte(), (byte) -8, "stream byte");
            checkEquals(st.readShort(), (short) -16, "stream short");
            checkEquals(st.readChar(), CHAR, "stream char");
            checkEquals(st.readInt(), 32, "stream int");
            checkEquals(st.readLong(), LONG_VALUE, "stream long");
            checkEquals(st.readFloat(), 0.5f, "stream float");
            checkEquals(st.readDouble(), 0.25, "stream double");
            checkEquals(st.readString(), "map", "stream string");
            byte[] small = new byte[8];
            checkEquals(st.readBytes(small), 3, "stream bytes length");
            check(Arrays.equals(Arrays.copyOf(small, 3), SMALL_BYTES), "stream bytes: " + describe(small));
            // JMS: a byte[] element is complete once readBytes returns -1.
            checkEquals(st.readBytes(small), -1, "stream bytes end");
            boolean ended = false;
            try {
                st.readBoolean();
            } catch (MessageEOFException e) {
                ended = true;
            }
            check(ended, "the stream ends after ten values");
        } else if (m instanceof ObjectMessage) {
            checkEquals(((ObjectMessage) m).getObject(), "interop", "object");
        }
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: Interop send|receive|roundtrip URL QUEUE");
            System.exit(2);
        }
        String mode = args[0], url = args[1], queue = args[2];
        if (!mode.equals("send") && !mode.equals("receive") && !mode.equals("roundtrip")) {
            System.err.println("usage: Interop send|receive|roundtrip URL QUEUE (not " + mode + ")");
            System.exit(2);
        }
        Interop t = new Interop();
        if (mode.equals("send") || mode.equals("roundtrip")) t.step("send the set", () -> sendSet(url, queue));
        if (mode.equals("receive") || mode.equals("roundtrip")) t.step("receive the set", () -> t.receiveSet(url, queue));
        System.out.println("interop: " + t.passed + " passed, " + t.failed + " failed");
        System.exit(t.failed == 0 ? 0 : 1);
    }
}
