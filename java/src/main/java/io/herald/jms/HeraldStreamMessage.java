package io.herald.jms;

import java.util.ArrayList;
import java.util.List;

import javax.jms.JMSException;
import javax.jms.MessageEOFException;
import javax.jms.MessageFormatException;

public class HeraldStreamMessage extends HeraldMessage implements javax.jms.StreamMessage {
    final List<Object> values = new ArrayList<>();
    private int next;
    /** Bytes left of a byte[] element being read in pieces by readBytes; -1 when none. */
    private int bytesOffset = -1;

    @Override void clearBodyContent() {
        values.clear();
        next = 0;
        bytesOffset = -1;
    }

    @Override void makeReadOnly() throws JMSException {
        super.makeReadOnly();
        next = 0;
        bytesOffset = -1;
    }

    @Override public boolean isBodyAssignableTo(@SuppressWarnings("rawtypes") Class c) { return false; }

    @Override public <T> T getBody(Class<T> c) throws JMSException {
        throw new MessageFormatException("a StreamMessage body cannot be read with getBody");
    }

    private interface Convert<T> { T apply(Object v) throws JMSException; }

    /** Reads the next element with a conversion; a failed conversion does not move on. */
    private <T> T read(Convert<T> convert) throws JMSException {
        checkReadable();
        if (bytesOffset >= 0) throw new MessageFormatException("a byte[] element is only partly read");
        if (next >= values.size()) throw new MessageEOFException("the end of the stream was reached");
        T v = convert.apply(values.get(next));
        next++;
        return v;
    }

    @Override public boolean readBoolean() throws JMSException { return read(Conversions::toBoolean); }
    @Override public byte readByte() throws JMSException { return read(Conversions::toByte); }
    @Override public short readShort() throws JMSException { return read(Conversions::toShort); }
    @Override public char readChar() throws JMSException { return read(Conversions::toChar); }
    @Override public int readInt() throws JMSException { return read(Conversions::toInt); }
    @Override public long readLong() throws JMSException { return read(Conversions::toLong); }
    @Override public float readFloat() throws JMSException { return read(Conversions::toFloat); }
    @Override public double readDouble() throws JMSException { return read(Conversions::toDouble); }
    @Override public String readString() throws JMSException { return read(Conversions::toStringValue); }
    @Override public Object readObject() throws JMSException {
        return read(v -> v instanceof byte[] ? ((byte[]) v).clone() : v);
    }

    @Override public int readBytes(byte[] value) throws JMSException {
        checkReadable();
        if (next >= values.size()) throw new MessageEOFException("the end of the stream was reached");
        Object v = values.get(next);
        if (v == null) {
            next++;
            return -1;
        }
        if (!(v instanceof byte[])) throw new MessageFormatException("the next element is not a byte[]");
        byte[] b = (byte[]) v;
        int from = bytesOffset < 0 ? 0 : bytesOffset;
        if (from >= b.length) {
            bytesOffset = -1;
            next++;
            return b.length == 0 && from == 0 ? 0 : -1;
        }
        int n = Math.min(value.length, b.length - from);
        System.arraycopy(b, from, value, 0, n);
        bytesOffset = from + n;
        return n;
    }

    private void write(Object v) throws JMSException {
        checkWritable();
        values.add(v);
    }

    @Override public void writeBoolean(boolean v) throws JMSException { write(v); }
    @Override public void writeByte(byte v) throws JMSException { write(v); }
    @Override public void writeShort(short v) throws JMSException { write(v); }
    @Override public void writeChar(char v) throws JMSException { write(v); }
    @Override public void writeInt(int v) throws JMSException { write(v); }
    @Override public void writeLong(long v) throws JMSException { write(v); }
    @Override public void writeFloat(float v) throws JMSException { write(v); }
    @Override public void writeDouble(double v) throws JMSException { write(v); }
    @Override public void writeString(String v) throws JMSException { write(v); }
    @Override public void writeBytes(byte[] v) throws JMSException { write(v == null ? null : v.clone()); }
    @Override public void writeBytes(byte[] v, int off, int len) throws JMSException {
        write(java.util.Arrays.copyOfRange(v, off, off + len));
    }
    @Override public void writeObject(Object v) throws JMSException {
        if (v != null && !(v instanceof Boolean || v instanceof Byte || v instanceof Short || v instanceof Character
                || v instanceof Integer || v instanceof Long || v instanceof Float || v instanceof Double
                || v instanceof String || v instanceof byte[])) {
            throw new MessageFormatException("a " + v.getClass().getName() + " cannot be written to a StreamMessage");
        }
        write(v instanceof byte[] ? ((byte[]) v).clone() : v);
    }

    @Override public void reset() throws JMSException {
        readOnlyBody = true;
        next = 0;
        bytesOffset = -1;
    }
}
