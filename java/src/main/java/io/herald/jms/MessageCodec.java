package io.herald.jms;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.UUID;

import javax.jms.DeliveryMode;
import javax.jms.JMSException;

/**
 * A message as herald-core encodes it with rmp-serde (see core/src/message/mod.rs): a
 * {@code Message} struct is a 12-element array, enums are maps {@code {Variant: value}} or
 * strings for unit variants, a {@code Vec<u8>} is an array of integers, a
 * {@code MessageId} is 16 bytes of bin. A {@code Delivery} is {@code [message, count]}.
 * The cross-language tests pin this layout by round-tripping through the native side.
 */
final class MessageCodec {
    private MessageCodec() {}

    static byte[] encode(HeraldMessage m) throws JMSException {
        return encodeToWriter(m).toByteArray();
    }

    /** Encodes into a writer sized for the message, whose buffer then crosses JNI as is. */
    static MsgPack.Writer encodeToWriter(HeraldMessage m) throws JMSException {
        MsgPack.Writer w = new MsgPack.Writer(256 + bodySizeHint(m));
        w.arrayHeader(12);
        if (m.idBits) {
            w.bin(ByteBuffer.allocate(16).putLong(m.idHigh).putLong(m.idLow).array());
        } else if (m.messageId != null && m.messageId.startsWith("ID:")) {
            UUID id;
            try {
                id = UUID.fromString(m.messageId.substring(3));
            } catch (IllegalArgumentException e) {
                id = null;
            }
            if (id == null) {
                w.nil();
            } else {
                w.bin(ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).array());
            }
        } else {
            w.nil();
        }
        w.integer(m.timestamp);
        w.stringOrNil(m.correlationId);
        writeDestination(w, HeraldDestination.of(m.replyTo));
        writeDestination(w, HeraldDestination.of(m.destination));
        w.string(m.deliveryMode == DeliveryMode.NON_PERSISTENT ? "NonPersistent" : "Persistent");
        w.integer(Math.max(0, Math.min(9, m.priority)));
        w.integer(m.expiration);
        w.integer(m.deliveryTime);
        w.stringOrNil(m.type);
        w.arrayHeader(m.properties.size());
        for (Map.Entry<String, Object> p : m.properties.entrySet()) {
            w.arrayHeader(2);
            w.string(p.getKey());
            writeValue(w, p.getValue());
        }
        writeBody(w, m);
        return w;
    }

    /** About how many bytes the body takes encoded; 0 when unknown. */
    private static int bodySizeHint(HeraldMessage m) throws JMSException {
        if (m instanceof HeraldBytesMessage) {
            return (int) Math.min(Integer.MAX_VALUE - 1024, ((HeraldBytesMessage) m).encodedSizeHint());
        }
        if (m instanceof HeraldTextMessage) {
            String t = ((HeraldTextMessage) m).text;
            return t == null ? 0 : (int) Math.min(Integer.MAX_VALUE - 1024, t.length() * 3L);
        }
        return 0;
    }

    private static void writeDestination(MsgPack.Writer w, HeraldDestination d) {
        if (d == null) {
            w.nil();
            return;
        }
        w.arrayHeader(2);
        String kind;
        switch (d.scheme()) {
            case "queue": kind = "Queue"; break;
            case "topic": kind = "Topic"; break;
            case "temp-queue": kind = "TemporaryQueue"; break;
            default: kind = "TemporaryTopic"; break;
        }
        w.string(kind);
        w.string(d.name);
    }

    /** A property, map entry or stream element: a {@code Value} enum. Null is written as nil. */
    private static void writeValue(MsgPack.Writer w, Object v) {
        if (v == null) {
            w.nil();
            return;
        }
        w.mapHeader(1);
        if (v instanceof Boolean) { w.string("Bool"); w.bool((Boolean) v); }
        else if (v instanceof Byte) { w.string("Byte"); w.integer((Byte) v); }
        else if (v instanceof Short) { w.string("Short"); w.integer((Short) v); }
        else if (v instanceof Character) { w.string("Char"); w.string(String.valueOf((char) (Character) v)); }
        else if (v instanceof Integer) { w.string("Int"); w.integer((Integer) v); }
        else if (v instanceof Long) { w.string("Long"); w.integer((Long) v); }
        else if (v instanceof Float) { w.string("Float"); w.float32((Float) v); }
        else if (v instanceof Double) { w.string("Double"); w.float64((Double) v); }
        else if (v instanceof String) { w.string("String"); w.string((String) v); }
        else if (v instanceof byte[]) { w.string("Bytes"); w.bin((byte[]) v); }
        else throw new IllegalArgumentException("not a message value: " + v.getClass().getName());
    }

    private static void writeBody(MsgPack.Writer w, HeraldMessage m) {
        if (m instanceof HeraldTextMessage) {
            w.mapHeader(1);
            w.string("Text");
            w.stringOrNil(((HeraldTextMessage) m).text);
        } else if (m instanceof HeraldBytesMessage) {
            w.mapHeader(1);
            w.string("Bytes");
            w.bin(((HeraldBytesMessage) m).bodyBytes());
        } else if (m instanceof HeraldMapMessage) {
            Map<String, Object> map = ((HeraldMapMessage) m).map;
            w.mapHeader(1);
            w.string("Map");
            w.arrayHeader(map.size());
            for (Map.Entry<String, Object> e : map.entrySet()) {
                w.arrayHeader(2);
                w.string(e.getKey());
                writeNullableValue(w, e.getValue());
            }
        } else if (m instanceof HeraldStreamMessage) {
            w.mapHeader(1);
            w.string("Stream");
            w.arrayHeader(((HeraldStreamMessage) m).values.size());
            for (Object v : ((HeraldStreamMessage) m).values) {
                writeNullableValue(w, v);
            }
        } else if (m instanceof HeraldObjectMessage) {
            byte[] s = ((HeraldObjectMessage) m).serialized;
            w.mapHeader(1);
            w.string("Object");
            if (s == null) w.nil(); else w.bin(s);
        } else {
            w.string("Empty");
        }
    }

    /**
     * The core's map and stream values cannot be null; a null entry travels as an empty
     * Bytes value under a reserved marker would be ambiguous, so it is refused here.
     */
    private static void writeNullableValue(MsgPack.Writer w, Object v) {
        if (v == null) {
            throw new IllegalArgumentException("null map entries and stream elements cannot be sent");
        }
        writeValue(w, v);
    }

    static HeraldMessage decodeDelivery(byte[] bytes, HeraldSession session) {
        MsgPack.Reader r = new MsgPack.Reader(bytes);
        if (r.arrayHeader() != 2) throw new IllegalArgumentException("a delivery is a 2-element array");
        HeraldMessage m = decodeMessage(r);
        m.deliveryCount = (int) r.integer();
        m.redelivered = m.deliveryCount > 1;
        m.session = session;
        m.readOnlyBody = true;
        m.readOnlyProperties = true;
        return m;
    }

    /** The variant names the decoder meets on every message, matched without allocating. */
    private static final String[] DELIVERY_MODES = {"Persistent", "NonPersistent"};
    private static final String[] DESTINATION_KINDS = {"Queue", "Topic", "TemporaryQueue", "TemporaryTopic"};
    private static final String[] VALUE_KINDS = {"String", "Int", "Long", "Bool", "Double", "Bytes", "Byte", "Short",
            "Float", "Char"};
    private static final String[] BODY_KINDS = {"Bytes", "Text", "Map", "Stream", "Object", "Empty"};

    private static HeraldMessage decodeMessage(MsgPack.Reader r) {
        if (r.arrayHeader() != 12) throw new IllegalArgumentException("a message is a 12-element array");
        boolean hasId = false;
        long idHigh = 0;
        long idLow = 0;
        if (!r.tryNil()) {
            ByteBuffer b = ByteBuffer.wrap(r.bytes());
            idHigh = b.getLong();
            idLow = b.getLong();
            hasId = true;
        }
        long timestamp = r.integer();
        String correlationId = r.stringOrNil();
        HeraldDestination replyTo = readDestination(r);
        HeraldDestination destination = readDestination(r);
        int mode = r.symbol(DELIVERY_MODES).equals("NonPersistent") ? DeliveryMode.NON_PERSISTENT : DeliveryMode.PERSISTENT;
        int priority = (int) r.integer();
        long expiration = r.integer();
        long deliveryTime = r.integer();
        String type = r.stringOrNil();
        int nprops = r.arrayHeader();
        java.util.LinkedHashMap<String, Object> props = nprops == 0 ? null : new java.util.LinkedHashMap<>();
        for (int i = 0; i < nprops; i++) {
            r.arrayHeader();
            String name = r.string();
            props.put(name, readValue(r));
        }
        HeraldMessage m = readBody(r);
        if (hasId) m.setMessageId(idHigh, idLow);
        m.timestamp = timestamp;
        m.correlationId = correlationId;
        m.replyTo = replyTo;
        m.destination = destination;
        m.deliveryMode = mode;
        m.priority = priority;
        m.expiration = expiration;
        m.deliveryTime = deliveryTime;
        m.type = type;
        if (props != null) m.properties.putAll(props);
        return m;
    }

    private static HeraldDestination readDestination(MsgPack.Reader r) {
        if (r.tryNil()) return null;
        r.arrayHeader();
        String kind = r.symbol(DESTINATION_KINDS);
        String name = r.string();
        switch (kind) {
            case "Queue": return new HeraldQueue(name);
            case "Topic": return new HeraldTopic(name);
            case "TemporaryQueue": return new HeraldTemporaryQueue(name, null);
            case "TemporaryTopic": return new HeraldTemporaryTopic(name, null);
            default: throw new IllegalArgumentException("unknown destination kind " + kind);
        }
    }

    private static Object readValue(MsgPack.Reader r) {
        if (r.tryNil()) return null;
        if (r.mapHeader() != 1) throw new IllegalArgumentException("a value is a 1-entry map");
        String variant = r.symbol(VALUE_KINDS);
        switch (variant) {
            case "Bool": return r.bool();
            case "Byte": return (byte) r.integer();
            case "Short": return (short) r.integer();
            case "Char": return r.string().charAt(0);
            case "Int": return (int) r.integer();
            case "Long": return r.integer();
            case "Float": return (float) r.floating();
            case "Double": return r.floating();
            case "String": return r.string();
            case "Bytes": return r.bytes();
            default: throw new IllegalArgumentException("unknown value type " + variant);
        }
    }

    private static HeraldMessage readBody(MsgPack.Reader r) {
        if (r.isString()) {
            String unit = r.string();
            if (!unit.equals("Empty")) throw new IllegalArgumentException("unknown body " + unit);
            return new HeraldMessage();
        }
        if (r.mapHeader() != 1) throw new IllegalArgumentException("a body is a 1-entry map");
        String kind = r.symbol(BODY_KINDS);
        switch (kind) {
            case "Text":
                return new HeraldTextMessage(r.stringOrNil());
            case "Bytes":
                return new HeraldBytesMessage(r.bytes());
            case "Map": {
                HeraldMapMessage m = new HeraldMapMessage();
                int n = r.arrayHeader();
                for (int i = 0; i < n; i++) {
                    r.arrayHeader();
                    String k = r.string();
                    m.map.put(k, readValue(r));
                }
                return m;
            }
            case "Stream": {
                HeraldStreamMessage m = new HeraldStreamMessage();
                int n = r.arrayHeader();
                for (int i = 0; i < n; i++) m.values.add(readValue(r));
                return m;
            }
            case "Object": {
                HeraldObjectMessage m = new HeraldObjectMessage();
                m.serialized = r.tryNil() ? null : r.bytes();
                return m;
            }
            default:
                throw new IllegalArgumentException("unknown body kind " + kind);
        }
    }
}
