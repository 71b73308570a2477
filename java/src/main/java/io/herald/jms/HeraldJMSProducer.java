package io.herald.jms;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import javax.jms.CompletionListener;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.InvalidDestinationRuntimeException;
import javax.jms.JMSException;
import javax.jms.JMSProducer;
import javax.jms.JMSRuntimeException;
import javax.jms.Message;
import javax.jms.MessageFormatRuntimeException;

/** JMSProducer: per-producer settings and properties over the context's one producer. */
final class HeraldJMSProducer implements JMSProducer {
    private final HeraldJMSContext context;
    private final Map<String, Object> properties = new LinkedHashMap<>();
    private int deliveryMode = DeliveryMode.PERSISTENT;
    private int priority = Message.DEFAULT_PRIORITY;
    private long timeToLive;
    private long deliveryDelay;
    private boolean disableId;
    private boolean disableTimestamp;
    private CompletionListener async;
    private String correlationId;
    private String type;
    private Destination replyTo;

    HeraldJMSProducer(HeraldJMSContext context) {
        this.context = context;
    }

    @Override public JMSProducer send(Destination d, Message m) {
        if (d == null) throw new InvalidDestinationRuntimeException("the destination must not be null");
        if (m == null) throw new MessageFormatRuntimeException("the message must not be null");
        HeraldJMSContext.unchecked(() -> {
            for (Map.Entry<String, Object> p : properties.entrySet()) m.setObjectProperty(p.getKey(), p.getValue());
            if (correlationId != null) m.setJMSCorrelationID(correlationId);
            if (type != null) m.setJMSType(type);
            if (replyTo != null) m.setJMSReplyTo(replyTo);
            HeraldProducer p = context.sharedProducer();
            synchronized (p) {
                p.setDisableMessageID(disableId);
                p.setDisableMessageTimestamp(disableTimestamp);
                p.setDeliveryDelay(deliveryDelay);
                if (async == null) p.send(d, m, deliveryMode, priority, timeToLive);
                else p.send(d, m, deliveryMode, priority, timeToLive, async);
            }
            return null;
        });
        return this;
    }

    @Override public JMSProducer send(Destination d, String body) { return send(d, context.createTextMessage(body)); }
    @Override public JMSProducer send(Destination d, Map<String, Object> body) {
        javax.jms.MapMessage m = context.createMapMessage();
        if (body != null) HeraldJMSContext.unchecked(() -> {
            for (Map.Entry<String, Object> e : body.entrySet()) m.setObject(e.getKey(), e.getValue());
            return null;
        });
        return send(d, m);
    }
    @Override public JMSProducer send(Destination d, byte[] body) {
        javax.jms.BytesMessage m = context.createBytesMessage();
        if (body != null) HeraldJMSContext.unchecked(() -> { m.writeBytes(body); return null; });
        return send(d, m);
    }
    @Override public JMSProducer send(Destination d, Serializable body) { return send(d, context.createObjectMessage(body)); }

    @Override public JMSProducer setDisableMessageID(boolean v) { disableId = v; return this; }
    @Override public boolean getDisableMessageID() { return disableId; }
    @Override public JMSProducer setDisableMessageTimestamp(boolean v) { disableTimestamp = v; return this; }
    @Override public boolean getDisableMessageTimestamp() { return disableTimestamp; }
    @Override public JMSProducer setDeliveryMode(int m) {
        if (m != DeliveryMode.PERSISTENT && m != DeliveryMode.NON_PERSISTENT) throw new JMSRuntimeException("delivery mode " + m + " is invalid");
        deliveryMode = m;
        return this;
    }
    @Override public int getDeliveryMode() { return deliveryMode; }
    @Override public JMSProducer setPriority(int p) {
        if (p < 0 || p > 9) throw new JMSRuntimeException("priority " + p + " is not between 0 and 9");
        priority = p;
        return this;
    }
    @Override public int getPriority() { return priority; }
    @Override public JMSProducer setTimeToLive(long t) { timeToLive = t; return this; }
    @Override public long getTimeToLive() { return timeToLive; }
    @Override public JMSProducer setDeliveryDelay(long d) { deliveryDelay = d; return this; }
    @Override public long getDeliveryDelay() { return deliveryDelay; }
    @Override public JMSProducer setAsync(CompletionListener l) { async = l; return this; }
    @Override public CompletionListener getAsync() { return async; }

    private JMSProducer prop(String name, Object v) {
        HeraldMessage.checkPropertyName(name);
        properties.put(name, v);
        return this;
    }

    @Override public JMSProducer setProperty(String n, boolean v) { return prop(n, v); }
    @Override public JMSProducer setProperty(String n, byte v) { return prop(n, v); }
    @Override public JMSProducer setProperty(String n, short v) { return prop(n, v); }
    @Override public JMSProducer setProperty(String n, int v) { return prop(n, v); }
    @Override public JMSProducer setProperty(String n, long v) { return prop(n, v); }
    @Override public JMSProducer setProperty(String n, float v) { return prop(n, v); }
    @Override public JMSProducer setProperty(String n, double v) { return prop(n, v); }
    @Override public JMSProducer setProperty(String n, String v) { return prop(n, v); }
    @Override public JMSProducer setProperty(String n, Object v) {
        if (v != null && !(v instanceof Boolean || v instanceof Byte || v instanceof Short || v instanceof Integer
                || v instanceof Long || v instanceof Float || v instanceof Double || v instanceof String)) {
            throw new MessageFormatRuntimeException("a " + v.getClass().getName() + " is not a valid property value");
        }
        return prop(n, v);
    }
    @Override public JMSProducer clearProperties() { properties.clear(); return this; }
    @Override public boolean propertyExists(String n) { return properties.containsKey(n); }

    private interface Conv<T> { T apply(Object v) throws JMSException; }

    private <T> T get(String n, Conv<T> c) {
        try {
            return c.apply(properties.get(n));
        } catch (javax.jms.MessageFormatException e) {
            throw new MessageFormatRuntimeException(e.getMessage(), e.getErrorCode(), e);
        } catch (JMSException e) {
            throw JmsExceptions.toRuntime(e);
        }
    }

    @Override public boolean getBooleanProperty(String n) { return get(n, Conversions::toBoolean); }
    @Override public byte getByteProperty(String n) { return get(n, Conversions::toByte); }
    @Override public short getShortProperty(String n) { return get(n, Conversions::toShort); }
    @Override public int getIntProperty(String n) { return get(n, Conversions::toInt); }
    @Override public long getLongProperty(String n) { return get(n, Conversions::toLong); }
    @Override public float getFloatProperty(String n) { return get(n, Conversions::toFloat); }
    @Override public double getDoubleProperty(String n) { return get(n, Conversions::toDouble); }
    @Override public String getStringProperty(String n) { return get(n, Conversions::toStringValue); }
    @Override public Object getObjectProperty(String n) { return properties.get(n); }
    @Override public Set<String> getPropertyNames() { return Collections.unmodifiableSet(properties.keySet()); }

    @Override public JMSProducer setJMSCorrelationIDAsBytes(byte[] id) {
        correlationId = id == null ? null : new String(id, java.nio.charset.StandardCharsets.ISO_8859_1);
        return this;
    }
    @Override public byte[] getJMSCorrelationIDAsBytes() {
        return correlationId == null ? null : correlationId.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }
    @Override public JMSProducer setJMSCorrelationID(String id) { correlationId = id; return this; }
    @Override public String getJMSCorrelationID() { return correlationId; }
    @Override public JMSProducer setJMSType(String t) { type = t; return this; }
    @Override public String getJMSType() { return type; }
    @Override public JMSProducer setJMSReplyTo(Destination d) { replyTo = d; return this; }
    @Override public Destination getJMSReplyTo() { return replyTo; }
}
