package io.herald.jms;

import static org.junit.Assert.*;

import java.util.Map;

import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageEOFException;
import javax.jms.MessageFormatException;
import javax.jms.MessageNotReadableException;
import javax.jms.MessageNotWriteableException;
import javax.jms.MessageProducer;
import javax.jms.ObjectMessage;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.StreamMessage;
import javax.jms.TextMessage;

import org.junit.Before;
import org.junit.Test;

/** The five message types, properties and their conversions, body states; each crosses the native side. */
public class MessageTypesTest extends JmsTestBase {
    private Session session;
    private MessageProducer producer;
    private MessageConsumer consumer;

    @Before
    public void open() throws Exception {
        Connection c = connection();
        session = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = session.createQueue("types");
        producer = session.createProducer(q);
        consumer = session.createConsumer(q);
    }

    private Message roundTrip(Message m) throws Exception {
        producer.send(m);
        Message got = consumer.receive(2000);
        assertNotNull(got);
        return got;
    }

    @Test
    public void propertiesOfEveryTypeSurviveAndConvert() throws Exception {
        Message m = session.createMessage();
        m.setBooleanProperty("bool", true);
        m.setByteProperty("byte", (byte) -7);
        m.setShortProperty("short", (short) 300);
        m.setIntProperty("int", -70000);
        m.setLongProperty("long", 1L << 40);
        m.setFloatProperty("float", 1.5f);
        m.setDoubleProperty("double", -2.25);
        m.setStringProperty("string", "ünïcødé ☃");
        m.setStringProperty("number", "42");
        m.setObjectProperty("obj", 12);
        Message got = roundTrip(m);
        assertTrue(got.getBooleanProperty("bool"));
        assertEquals(-7, got.getByteProperty("byte"));
        assertEquals(-7, got.getShortProperty("byte"));
        assertEquals(-7, got.getIntProperty("byte"));
        assertEquals(-7L, got.getLongProperty("byte"));
        assertEquals(300, got.getIntProperty("short"));
        assertEquals(-70000, got.getIntProperty("int"));
        assertEquals(1L << 40, got.getLongProperty("long"));
        assertEquals(1.5f, got.getFloatProperty("float"), 0);
        assertEquals(1.5, got.getDoubleProperty("float"), 0);
        assertEquals(-2.25, got.getDoubleProperty("double"), 0);
        assertEquals("ünïcødé ☃", got.getStringProperty("string"));
        assertEquals(42, got.getIntProperty("number"));
        assertEquals(42L, got.getLongProperty("number"));
        assertEquals("true", got.getStringProperty("bool"));
        assertEquals("-70000", got.getStringProperty("int"));
        assertEquals(Integer.valueOf(12), got.getObjectProperty("obj"));
        assertEquals(Byte.class, got.getObjectProperty("byte").getClass());
        assertEquals(Float.class, got.getObjectProperty("float").getClass());
        assertFalse(got.propertyExists("missing"));
        assertFalse(got.getBooleanProperty("missing"));
        assertNull(got.getStringProperty("missing"));
        try {
            got.getIntProperty("bool");
            fail();
        } catch (MessageFormatException expected) {
        }
        try {
            got.getByteProperty("int");
            fail();
        } catch (MessageFormatException expected) {
        }
        try {
            got.getIntProperty("string");
            fail();
        } catch (NumberFormatException expected) {
        }
        try {
            got.getIntProperty("missing");
            fail();
        } catch (NumberFormatException expected) {
        }
        try {
            got.setIntProperty("x", 1);
            fail("received properties are read-only");
        } catch (MessageNotWriteableException expected) {
        }
        got.clearProperties();
        got.setIntProperty("x", 1);
        assertEquals(1, got.getIntProperty("x"));
        try {
            m.setObjectProperty("list", new java.util.ArrayList<>());
            fail();
        } catch (MessageFormatException expected) {
        }
    }

    @Test
    public void textMessage() throws Exception {
        TextMessage got = (TextMessage) roundTrip(session.createTextMessage("x".repeat(5000)));
        assertEquals("x".repeat(5000), got.getText());
        assertEquals("x".repeat(5000), got.getBody(String.class));
        try {
            got.setText("y");
            fail();
        } catch (MessageNotWriteableException expected) {
        }
        got.clearBody();
        got.setText("y");
        assertEquals("y", got.getText());
        TextMessage empty = (TextMessage) roundTrip(session.createTextMessage());
        assertNull(empty.getText());
    }

    @Test
    public void bytesMessage() throws Exception {
        BytesMessage m = session.createBytesMessage();
        m.writeInt(0x01020304);
        m.writeUTF("héllo");
        m.writeBytes(new byte[] {(byte) 0xff, 0, (byte) 0x80});
        m.writeDouble(Math.PI);
        try {
            m.readInt();
            fail("write-only until sent");
        } catch (MessageNotReadableException expected) {
        }
        BytesMessage got = (BytesMessage) roundTrip(m);
        assertEquals(4 + 2 + 6 + 3 + 8, got.getBodyLength());
        assertEquals(0x01020304, got.readInt());
        assertEquals("héllo", got.readUTF());
        byte[] three = new byte[3];
        assertEquals(3, got.readBytes(three));
        assertArrayEquals(new byte[] {(byte) 0xff, 0, (byte) 0x80}, three);
        assertEquals(Math.PI, got.readDouble(), 0);
        try {
            got.readByte();
            fail();
        } catch (MessageEOFException expected) {
        }
        try {
            got.writeInt(1);
            fail();
        } catch (MessageNotWriteableException expected) {
        }
        got.reset();
        assertEquals(0x01020304, got.readInt());
    }

    @Test
    public void mapMessage() throws Exception {
        MapMessage m = session.createMapMessage();
        m.setInt("i", 7);
        m.setString("s", "seven");
        m.setBytes("b", new byte[] {1, 2, 3});
        m.setChar("c", 'z');
        m.setFloat("f", 0.5f);
        m.setBoolean("t", true);
        MapMessage got = (MapMessage) roundTrip(m);
        assertEquals(7, got.getInt("i"));
        assertEquals(7L, got.getLong("i"));
        assertEquals("7", got.getString("i"));
        assertEquals("seven", got.getString("s"));
        assertArrayEquals(new byte[] {1, 2, 3}, got.getBytes("b"));
        assertEquals('z', got.getChar("c"));
        assertEquals(0.5, got.getDouble("f"), 0);
        assertTrue(got.getBoolean("t"));
        assertTrue(got.itemExists("s"));
        assertFalse(got.itemExists("nope"));
        @SuppressWarnings("unchecked")
        Map<String, Object> body = got.getBody(Map.class);
        assertEquals(6, body.size());
        try {
            got.getInt("s");
            fail();
        } catch (NumberFormatException expected) {
        }
        try {
            got.getBoolean("i");
            fail();
        } catch (MessageFormatException expected) {
        }
        try {
            got.setInt("j", 1);
            fail();
        } catch (MessageNotWriteableException expected) {
        }
    }

    @Test
    public void streamMessage() throws Exception {
        StreamMessage m = session.createStreamMessage();
        m.writeInt(5);
        m.writeString("10");
        m.writeBoolean(false);
        m.writeBytes(new byte[] {9, 8});
        m.writeChar('q');
        m.writeLong(-1);
        StreamMessage got = (StreamMessage) roundTrip(m);
        assertEquals(5L, got.readLong());
        assertEquals(10, got.readInt());
        assertEquals("false", got.readString());
        byte[] buf = new byte[10];
        assertEquals(2, got.readBytes(buf));
        assertEquals(-1, got.readBytes(buf));
        assertEquals('q', got.readChar());
        try {
            got.readInt();
            fail("a long cannot be read as int");
        } catch (MessageFormatException expected) {
        }
        assertEquals(-1L, got.readLong());
        try {
            got.readLong();
            fail();
        } catch (MessageEOFException expected) {
        }
    }

    @Test
    public void objectMessage() throws Exception {
        ObjectMessage m = session.createObjectMessage(new java.util.ArrayList<>(java.util.List.of("a", "b")));
        ObjectMessage got = (ObjectMessage) roundTrip(m);
        assertEquals(java.util.List.of("a", "b"), got.getObject());
        assertTrue(got.isBodyAssignableTo(java.util.List.class));
        assertFalse(got.isBodyAssignableTo(String.class));
        ObjectMessage none = (ObjectMessage) roundTrip(session.createObjectMessage());
        assertNull(none.getObject());
    }

    @Test
    public void plainMessageAndHeaders() throws Exception {
        Message m = session.createMessage();
        m.setJMSType("kind");
        m.setJMSReplyTo(session.createTopic("answers"));
        m.setJMSCorrelationIDAsBytes(new byte[] {65, 66});
        Message got = roundTrip(m);
        assertEquals("kind", got.getJMSType());
        assertEquals(session.createTopic("answers"), got.getJMSReplyTo());
        assertEquals("AB", got.getJMSCorrelationID());
        assertTrue(got.getBody(Object.class) == null);
    }

    @Test
    public void disabledIdAndTimestamp() throws Exception {
        producer.setDisableMessageID(true);
        producer.setDisableMessageTimestamp(true);
        Message m = session.createMessage();
        Message got = roundTrip(m);
        assertNull(m.getJMSMessageID());
        assertNull(got.getJMSMessageID());
        assertEquals(0, got.getJMSTimestamp());
    }
}
