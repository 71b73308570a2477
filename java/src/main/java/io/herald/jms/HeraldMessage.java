package io.herald.jms;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.JMSException;
import javax.jms.MessageFormatException;
import javax.jms.MessageNotReadableException;
import javax.jms.MessageNotWriteableException;

/**
 * A JMS message held entirely in Java: headers, typed properties, and (in subclasses) a
 * body. It crosses to the native side as one MessagePack byte array ({@link MessageCodec}).
 */
public class HeraldMessage implements javax.jms.Message {
    /** JMSMessageID as text, when {@code idBits} is not set. */
    String messageId;
    /**
     * JMSMessageID as the native side gives it, the two halves of a UUID, turned into its
     * "ID:..." text only when asked for: most applications never read it, and building it
     * for every message sent and received costs more than the rest of the header.
     */
    long idHigh;
    long idLow;
    boolean idBits;
    long timestamp;
    String correlationId;
    Destination replyTo;
    Destination destination;
    int deliveryMode = DeliveryMode.PERSISTENT;
    boolean redelivered;
    String type;
    long expiration;
    long deliveryTime;
    int priority = javax.jms.Message.DEFAULT_PRIORITY;
    /** JMSXDeliveryCount of a received message; 0 for one being built. */
    int deliveryCount;
    final Map<String, Object> properties = new LinkedHashMap<>();
    boolean readOnlyProperties;
    boolean readOnlyBody;
    /** Set on received messages: acknowledge() goes to this session. */
    HeraldSession session;

    // ---- headers ----

    @Override public String getJMSMessageID() {
        if (idBits) {
            messageId = "ID:" + new UUID(idHigh, idLow);
            idBits = false;
        }
        return messageId;
    }
    @Override public void setJMSMessageID(String id) {
        messageId = id;
        idBits = false;
    }

    /** Sets JMSMessageID to the UUID a send assigned or a delivery carried. */
    void setMessageId(long high, long low) {
        idHigh = high;
        idLow = low;
        idBits = true;
        messageId = null;
    }
    @Override public long getJMSTimestamp() { return timestamp; }
    @Override public void setJMSTimestamp(long t) { timestamp = t; }
    @Override public byte[] getJMSCorrelationIDAsBytes() {
        return correlationId == null ? null : correlationId.getBytes(StandardCharsets.ISO_8859_1);
    }
    @Override public void setJMSCorrelationIDAsBytes(byte[] id) {
        correlationId = id == null ? null : new String(id, StandardCharsets.ISO_8859_1);
    }
    @Override public void setJMSCorrelationID(String id) { correlationId = id; }
    @Override public String getJMSCorrelationID() { return correlationId; }
    @Override public Destination getJMSReplyTo() { return replyTo; }
    @Override public void setJMSReplyTo(Destination d) { replyTo = d; }
    @Override public Destination getJMSDestination() { return destination; }
    @Override public void setJMSDestination(Destination d) { destination = d; }
    @Override public int getJMSDeliveryMode() { return deliveryMode; }
    @Override public void setJMSDeliveryMode(int m) { deliveryMode = m; }
    @Override public boolean getJMSRedelivered() { return redelivered; }
    @Override public void setJMSRedelivered(boolean r) { redelivered = r; }
    @Override public String getJMSType() { return type; }
    @Override public void setJMSType(String t) { type = t; }
    @Override public long getJMSExpiration() { return expiration; }
    @Override public void setJMSExpiration(long e) { expiration = e; }
    @Override public long getJMSDeliveryTime() { return deliveryTime; }
    @Override public void setJMSDeliveryTime(long t) { deliveryTime = t; }
    @Override public int getJMSPriority() { return priority; }
    @Override public void setJMSPriority(int p) { priority = p; }

    // ---- properties ----

    @Override public void clearProperties() {
        properties.clear();
        readOnlyProperties = false;
    }

    @Override public boolean propertyExists(String name) {
        return properties.containsKey(name) || (deliveryCount > 0 && "JMSXDeliveryCount".equals(name));
    }

    private Object prop(String name) {
        if (deliveryCount > 0 && "JMSXDeliveryCount".equals(name)) {
            return deliveryCount;
        }
        return properties.get(name);
    }

    @Override public boolean getBooleanProperty(String name) throws JMSException { return Conversions.toBoolean(prop(name)); }
    @Override public byte getByteProperty(String name) throws JMSException { return Conversions.toByte(prop(name)); }
    @Override public short getShortProperty(String name) throws JMSException { return Conversions.toShort(prop(name)); }
    @Override public int getIntProperty(String name) throws JMSException { return Conversions.toInt(prop(name)); }
    @Override public long getLongProperty(String name) throws JMSException { return Conversions.toLong(prop(name)); }
    @Override public float getFloatProperty(String name) throws JMSException { return Conversions.toFloat(prop(name)); }
    @Override public double getDoubleProperty(String name) throws JMSException { return Conversions.toDouble(prop(name)); }
    @Override public String getStringProperty(String name) throws JMSException {
        Object v = prop(name);
        if (v instanceof byte[]) throw new MessageFormatException("a byte[] property cannot be read as String");
        return v == null ? null : v.toString();
    }
    @Override public Object getObjectProperty(String name) { return prop(name); }

    @Override public Enumeration<?> getPropertyNames() {
        java.util.List<String> names = new java.util.ArrayList<>(properties.keySet());
        if (deliveryCount > 0) names.add("JMSXDeliveryCount");
        return Collections.enumeration(names);
    }

    private void put(String name, Object value) throws JMSException {
        if (readOnlyProperties) {
            throw new MessageNotWriteableException("the properties of a received message are read-only; call clearProperties() first");
        }
        checkPropertyName(name);
        properties.put(name, value);
    }

    static void checkPropertyName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a property name must not be null or empty");
        }
        if (!Character.isJavaIdentifierStart(name.charAt(0))) {
            throw new IllegalArgumentException("\"" + name + "\" is not a valid property name");
        }
        for (int i = 1; i < name.length(); i++) {
            if (!Character.isJavaIdentifierPart(name.charAt(i))) {
                throw new IllegalArgumentException("\"" + name + "\" is not a valid property name");
            }
        }
        switch (name.toUpperCase(java.util.Locale.ROOT)) {
            case "NULL": case "TRUE": case "FALSE": case "NOT": case "AND": case "OR":
            case "BETWEEN": case "LIKE": case "IN": case "IS": case "ESCAPE":
                throw new IllegalArgumentException("\"" + name + "\" is a reserved word, not a valid property name");
            default:
        }
    }

    @Override public void setBooleanProperty(String name, boolean v) throws JMSException { put(name, v); }
    @Override public void setByteProperty(String name, byte v) throws JMSException { put(name, v); }
    @Override public void setShortProperty(String name, short v) throws JMSException { put(name, v); }
    @Override public void setIntProperty(String name, int v) throws JMSException { put(name, v); }
    @Override public void setLongProperty(String name, long v) throws JMSException { put(name, v); }
    @Override public void setFloatProperty(String name, float v) throws JMSException { put(name, v); }
    @Override public void setDoubleProperty(String name, double v) throws JMSException { put(name, v); }
    @Override public void setStringProperty(String name, String v) throws JMSException { put(name, v); }
    @Override public void setObjectProperty(String name, Object v) throws JMSException {
        if (v != null && !(v instanceof Boolean || v instanceof Byte || v instanceof Short || v instanceof Integer
                || v instanceof Long || v instanceof Float || v instanceof Double || v instanceof String)) {
            throw new MessageFormatException("a " + v.getClass().getName() + " is not a valid property value");
        }
        put(name, v);
    }

    // ---- acknowledgement and body ----

    @Override public void acknowledge() throws JMSException {
        if (session != null) {
            session.acknowledgeFromMessage();
        }
    }

    @Override public void clearBody() throws JMSException {
        readOnlyBody = false;
        clearBodyContent();
    }

    void clearBodyContent() {}

    @Override public <T> T getBody(Class<T> c) throws JMSException {
        if (!isBodyAssignableTo(c)) {
            throw new MessageFormatException("the body cannot be read as " + c.getName());
        }
        return null;
    }

    @Override public boolean isBodyAssignableTo(@SuppressWarnings("rawtypes") Class c) throws JMSException {
        return true;
    }

    void checkWritable() throws JMSException {
        if (readOnlyBody) {
            throw new MessageNotWriteableException("the body of this message is read-only; call clearBody() first");
        }
    }

    void checkReadable() throws JMSException {
        if (!readOnlyBody) {
            throw new MessageNotReadableException("the body is write-only until the message is sent or reset()");
        }
    }

    /** Called once the message has been sent or received: body and properties become read-only. */
    void makeReadOnly() throws JMSException {
        readOnlyBody = true;
        readOnlyProperties = true;
    }

    @Override public String toString() {
        return getClass().getSimpleName() + "[id=" + getJMSMessageID() + ", destination=" + destination + "]";
    }
}
