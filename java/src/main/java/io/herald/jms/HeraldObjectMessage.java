package io.herald.jms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;

import javax.jms.JMSException;
import javax.jms.MessageFormatException;

/** The object is serialized when set (as JMS requires: later changes to it are not sent). */
public class HeraldObjectMessage extends HeraldMessage implements javax.jms.ObjectMessage {
    byte[] serialized;

    @Override public void setObject(Serializable object) throws JMSException {
        checkWritable();
        if (object == null) {
            serialized = null;
            return;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(object);
        } catch (IOException e) {
            MessageFormatException m = new MessageFormatException("cannot serialize " + object.getClass().getName() + ": " + e);
            m.initCause(e);
            throw m;
        }
        serialized = bytes.toByteArray();
    }

    @Override public Serializable getObject() throws JMSException {
        if (serialized == null) return null;
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(serialized)) {
            @Override protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
                if (loader != null) {
                    try {
                        return Class.forName(desc.getName(), false, loader);
                    } catch (ClassNotFoundException ignored) {
                        // fall back to the default resolution
                    }
                }
                return super.resolveClass(desc);
            }
        }) {
            return (Serializable) in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            MessageFormatException m = new MessageFormatException("cannot deserialize the object: " + e);
            m.initCause(e);
            throw m;
        }
    }

    @Override void clearBodyContent() { serialized = null; }

    @Override public boolean isBodyAssignableTo(@SuppressWarnings("rawtypes") Class c) throws JMSException {
        if (serialized == null) return true;
        Serializable o = getObject();
        return c.isInstance(o);
    }

    @Override public <T> T getBody(Class<T> c) throws JMSException {
        if (serialized == null) return null;
        Serializable o = getObject();
        if (!c.isInstance(o)) throw new MessageFormatException("an ObjectMessage holding " + o.getClass().getName() + " cannot be read as " + c.getName());
        return c.cast(o);
    }
}
