package io.herald.jms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;

import javax.jms.JMSException;
import javax.jms.MessageEOFException;
import javax.jms.MessageFormatException;

public class HeraldBytesMessage extends HeraldMessage implements javax.jms.BytesMessage {
    private ByteArrayOutputStream written = new ByteArrayOutputStream();
    private DataOutputStream out = new DataOutputStream(written);
    private byte[] data;
    private DataInputStream in;

    HeraldBytesMessage() {}

    /** A received body: read-only, positioned at the start. */
    HeraldBytesMessage(byte[] body) {
        data = body;
        readOnlyBody = true;
        in = new DataInputStream(new ByteArrayInputStream(body));
    }

    /** The body to send, whatever mode the message is in. */
    /** The body's length in bytes, without copying it. */
    long encodedSizeHint() {
        return readOnlyBody ? (data == null ? 0 : data.length) : written.size();
    }

    byte[] bodyBytes() {
        return readOnlyBody ? data : written.toByteArray();
    }

    @Override void makeReadOnly() throws JMSException {
        if (!readOnlyBody) {
            reset();
        }
        super.makeReadOnly();
    }

    @Override void clearBodyContent() {
        written = new ByteArrayOutputStream();
        out = new DataOutputStream(written);
        data = null;
        in = null;
    }

    @Override public void reset() throws JMSException {
        if (!readOnlyBody) {
            data = written.toByteArray();
        }
        readOnlyBody = true;
        in = new DataInputStream(new ByteArrayInputStream(data));
    }

    @Override public long getBodyLength() throws JMSException {
        checkReadable();
        return data.length;
    }

    @Override public boolean isBodyAssignableTo(@SuppressWarnings("rawtypes") Class c) {
        byte[] b = bodyBytes();
        return b == null || b.length == 0 || c.isAssignableFrom(byte[].class);
    }

    @Override public <T> T getBody(Class<T> c) throws JMSException {
        if (!isBodyAssignableTo(c)) throw new MessageFormatException("a BytesMessage body cannot be read as " + c.getName());
        byte[] b = bodyBytes();
        return b == null || b.length == 0 ? null : c.cast(b.clone());
    }

    private interface Read<T> { T read() throws IOException; }

    private <T> T read(Read<T> r) throws JMSException {
        checkReadable();
        try {
            in.mark(8);
            return r.read();
        } catch (EOFException e) {
            throw new MessageEOFException("the end of the body was reached");
        } catch (IOException e) {
            throw JmsExceptions.wrap(e);
        }
    }

    private interface Write { void write() throws IOException; }

    private void write(Write w) throws JMSException {
        checkWritable();
        try {
            w.write();
        } catch (IOException e) {
            throw JmsExceptions.wrap(e);
        }
    }

    @Override public boolean readBoolean() throws JMSException { return read(() -> in.readBoolean()); }
    @Override public byte readByte() throws JMSException { return read(() -> in.readByte()); }
    @Override public int readUnsignedByte() throws JMSException { return read(() -> in.readUnsignedByte()); }
    @Override public short readShort() throws JMSException { return read(() -> in.readShort()); }
    @Override public int readUnsignedShort() throws JMSException { return read(() -> in.readUnsignedShort()); }
    @Override public char readChar() throws JMSException { return read(() -> in.readChar()); }
    @Override public int readInt() throws JMSException { return read(() -> in.readInt()); }
    @Override public long readLong() throws JMSException { return read(() -> in.readLong()); }
    @Override public float readFloat() throws JMSException { return read(() -> in.readFloat()); }
    @Override public double readDouble() throws JMSException { return read(() -> in.readDouble()); }
    @Override public String readUTF() throws JMSException { return read(() -> in.readUTF()); }
    @Override public int readBytes(byte[] value) throws JMSException { return readBytes(value, value.length); }
    @Override public int readBytes(byte[] value, int length) throws JMSException {
        if (length > value.length || length < 0) throw new IndexOutOfBoundsException("length " + length);
        return read(() -> {
            int n = in.read(value, 0, length);
            return n;
        });
    }

    @Override public void writeBoolean(boolean v) throws JMSException { write(() -> out.writeBoolean(v)); }
    @Override public void writeByte(byte v) throws JMSException { write(() -> out.writeByte(v)); }
    @Override public void writeShort(short v) throws JMSException { write(() -> out.writeShort(v)); }
    @Override public void writeChar(char v) throws JMSException { write(() -> out.writeChar(v)); }
    @Override public void writeInt(int v) throws JMSException { write(() -> out.writeInt(v)); }
    @Override public void writeLong(long v) throws JMSException { write(() -> out.writeLong(v)); }
    @Override public void writeFloat(float v) throws JMSException { write(() -> out.writeFloat(v)); }
    @Override public void writeDouble(double v) throws JMSException { write(() -> out.writeDouble(v)); }
    @Override public void writeUTF(String v) throws JMSException { write(() -> out.writeUTF(v)); }
    @Override public void writeBytes(byte[] v) throws JMSException { write(() -> out.write(v)); }
    @Override public void writeBytes(byte[] v, int off, int len) throws JMSException { write(() -> out.write(v, off, len)); }
    @Override public void writeObject(Object v) throws JMSException {
        if (v == null) throw new NullPointerException("writeObject(null)");
        if (v instanceof Boolean) writeBoolean((Boolean) v);
        else if (v instanceof Byte) writeByte((Byte) v);
        else if (v instanceof Short) writeShort((Short) v);
        else if (v instanceof Character) writeChar((Character) v);
        else if (v instanceof Integer) writeInt((Integer) v);
        else if (v instanceof Long) writeLong((Long) v);
        else if (v instanceof Float) writeFloat((Float) v);
        else if (v instanceof Double) writeDouble((Double) v);
        else if (v instanceof String) writeUTF((String) v);
        else if (v instanceof byte[]) writeBytes((byte[]) v);
        else throw new MessageFormatException("a " + v.getClass().getName() + " cannot be written to a BytesMessage");
    }
}
