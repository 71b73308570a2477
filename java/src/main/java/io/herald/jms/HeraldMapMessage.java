package io.herald.jms;

import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.jms.JMSException;
import javax.jms.MessageFormatException;

public class HeraldMapMessage extends HeraldMessage implements javax.jms.MapMessage {
    final Map<String, Object> map = new LinkedHashMap<>();

    private Object get(String name) {
        return map.get(name);
    }

    private void set(String name, Object value) throws JMSException {
        checkWritable();
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("a map entry name must not be null or empty");
        map.put(name, value);
    }

    @Override void clearBodyContent() { map.clear(); }

    @Override public boolean isBodyAssignableTo(@SuppressWarnings("rawtypes") Class c) {
        return map.isEmpty() || c.isAssignableFrom(Map.class);
    }

    @Override public <T> T getBody(Class<T> c) throws JMSException {
        if (!isBodyAssignableTo(c)) throw new MessageFormatException("a MapMessage body cannot be read as " + c.getName());
        return map.isEmpty() ? null : c.cast(new LinkedHashMap<>(map));
    }

    @Override public boolean getBoolean(String n) throws JMSException { return Conversions.toBoolean(get(n)); }
    @Override public byte getByte(String n) throws JMSException { return Conversions.toByte(get(n)); }
    @Override public short getShort(String n) throws JMSException { return Conversions.toShort(get(n)); }
    @Override public char getChar(String n) throws JMSException { return Conversions.toChar(get(n)); }
    @Override public int getInt(String n) throws JMSException { return Conversions.toInt(get(n)); }
    @Override public long getLong(String n) throws JMSException { return Conversions.toLong(get(n)); }
    @Override public float getFloat(String n) throws JMSException { return Conversions.toFloat(get(n)); }
    @Override public double getDouble(String n) throws JMSException { return Conversions.toDouble(get(n)); }
    @Override public String getString(String n) throws JMSException { return Conversions.toStringValue(get(n)); }
    @Override public byte[] getBytes(String n) throws JMSException {
        byte[] b = Conversions.toBytes(get(n));
        return b == null ? null : b.clone();
    }
    @Override public Object getObject(String n) {
        Object v = get(n);
        return v instanceof byte[] ? ((byte[]) v).clone() : v;
    }
    @Override public Enumeration<String> getMapNames() { return Collections.enumeration(map.keySet()); }
    @Override public boolean itemExists(String n) { return map.containsKey(n); }

    @Override public void setBoolean(String n, boolean v) throws JMSException { set(n, v); }
    @Override public void setByte(String n, byte v) throws JMSException { set(n, v); }
    @Override public void setShort(String n, short v) throws JMSException { set(n, v); }
    @Override public void setChar(String n, char v) throws JMSException { set(n, v); }
    @Override public void setInt(String n, int v) throws JMSException { set(n, v); }
    @Override public void setLong(String n, long v) throws JMSException { set(n, v); }
    @Override public void setFloat(String n, float v) throws JMSException { set(n, v); }
    @Override public void setDouble(String n, double v) throws JMSException { set(n, v); }
    @Override public void setString(String n, String v) throws JMSException { set(n, v); }
    @Override public void setBytes(String n, byte[] v) throws JMSException { set(n, v == null ? null : v.clone()); }
    @Override public void setBytes(String n, byte[] v, int off, int len) throws JMSException {
        set(n, java.util.Arrays.copyOfRange(v, off, off + len));
    }
    @Override public void setObject(String n, Object v) throws JMSException {
        if (v != null && !(v instanceof Boolean || v instanceof Byte || v instanceof Short || v instanceof Character
                || v instanceof Integer || v instanceof Long || v instanceof Float || v instanceof Double
                || v instanceof String || v instanceof byte[])) {
            throw new MessageFormatException("a " + v.getClass().getName() + " is not a valid map value");
        }
        set(n, v instanceof byte[] ? ((byte[]) v).clone() : v);
    }
}
