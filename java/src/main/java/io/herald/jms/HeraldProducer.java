package io.herald.jms;

import java.util.Enumeration;

import javax.jms.CompletionListener;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.IllegalStateException;
import javax.jms.InvalidDestinationException;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageFormatException;
import javax.jms.Queue;
import javax.jms.Topic;

/** A producer, and the classic QueueSender and TopicPublisher. One native call per send. */
public class HeraldProducer implements javax.jms.MessageProducer, javax.jms.QueueSender, javax.jms.TopicPublisher {
    private final HeraldSession session;
    private final NativeResource resource;
    private final HeraldDestination destination;
    private volatile boolean closed;
    private int deliveryMode = DeliveryMode.PERSISTENT;
    private int priority = Message.DEFAULT_PRIORITY;
    private long timeToLive = Message.DEFAULT_TIME_TO_LIVE;
    private long deliveryDelay = Message.DEFAULT_DELIVERY_DELAY;
    private boolean disableMessageId;
    private boolean disableTimestamp;

    HeraldProducer(HeraldSession session, long handle, HeraldDestination destination) {
        this.session = session;
        this.resource = new NativeResource(this, session.connection.provider, handle, "producer");
        this.destination = destination;
    }

    void checkClosed() throws IllegalStateException {
        if (closed || session.isClosed()) throw new IllegalStateException("the producer is closed");
    }

    // ---- settings ----

    @Override public void setDisableMessageID(boolean v) throws JMSException { checkClosed(); disableMessageId = v; }
    @Override public boolean getDisableMessageID() throws JMSException { checkClosed(); return disableMessageId; }
    @Override public void setDisableMessageTimestamp(boolean v) throws JMSException { checkClosed(); disableTimestamp = v; }
    @Override public boolean getDisableMessageTimestamp() throws JMSException { checkClosed(); return disableTimestamp; }
    @Override public void setDeliveryMode(int m) throws JMSException {
        checkClosed();
        checkDeliveryMode(m);
        deliveryMode = m;
    }
    @Override public int getDeliveryMode() throws JMSException { checkClosed(); return deliveryMode; }
    @Override public void setPriority(int p) throws JMSException {
        checkClosed();
        checkPriority(p);
        priority = p;
    }
    @Override public int getPriority() throws JMSException { checkClosed(); return priority; }
    @Override public void setTimeToLive(long t) throws JMSException { checkClosed(); timeToLive = t; }
    @Override public long getTimeToLive() throws JMSException { checkClosed(); return timeToLive; }
    @Override public void setDeliveryDelay(long d) throws JMSException { checkClosed(); deliveryDelay = d; }
    @Override public long getDeliveryDelay() throws JMSException { checkClosed(); return deliveryDelay; }
    @Override public Destination getDestination() throws JMSException { checkClosed(); return destination; }
    @Override public Queue getQueue() throws JMSException { checkClosed(); return (Queue) destination; }
    @Override public Topic getTopic() throws JMSException { checkClosed(); return (Topic) destination; }

    private static void checkDeliveryMode(int m) throws JMSException {
        if (m != DeliveryMode.PERSISTENT && m != DeliveryMode.NON_PERSISTENT) {
            throw new JMSException("delivery mode " + m + " is neither PERSISTENT nor NON_PERSISTENT");
        }
    }

    private static void checkPriority(int p) throws JMSException {
        if (p < 0 || p > 9) throw new JMSException("priority " + p + " is not between 0 and 9");
    }

    // ---- sending ----

    @Override public void send(Message m) throws JMSException { send(null, m, deliveryMode, priority, timeToLive, null, false); }
    @Override public void send(Message m, int mode, int prio, long ttl) throws JMSException { send(null, m, mode, prio, ttl, null, false); }
    @Override public void send(Destination d, Message m) throws JMSException { send(d, m, deliveryMode, priority, timeToLive, null, true); }
    @Override public void send(Destination d, Message m, int mode, int prio, long ttl) throws JMSException { send(d, m, mode, prio, ttl, null, true); }
    @Override public void send(Message m, CompletionListener l) throws JMSException { send(null, m, deliveryMode, priority, timeToLive, checkListener(l), false); }
    @Override public void send(Message m, int mode, int prio, long ttl, CompletionListener l) throws JMSException { send(null, m, mode, prio, ttl, checkListener(l), false); }
    @Override public void send(Destination d, Message m, CompletionListener l) throws JMSException { send(d, m, deliveryMode, priority, timeToLive, checkListener(l), true); }
    @Override public void send(Destination d, Message m, int mode, int prio, long ttl, CompletionListener l) throws JMSException { send(d, m, mode, prio, ttl, checkListener(l), true); }
    @Override public void send(Queue q, Message m) throws JMSException { send((Destination) q, m); }
    @Override public void send(Queue q, Message m, int mode, int prio, long ttl) throws JMSException { send((Destination) q, m, mode, prio, ttl); }
    @Override public void publish(Message m) throws JMSException { send(m); }
    @Override public void publish(Message m, int mode, int prio, long ttl) throws JMSException { send(m, mode, prio, ttl); }
    @Override public void publish(Topic t, Message m) throws JMSException { send(t, m); }
    @Override public void publish(Topic t, Message m, int mode, int prio, long ttl) throws JMSException { send(t, m, mode, prio, ttl); }

    private static CompletionListener checkListener(CompletionListener l) {
        if (l == null) throw new IllegalArgumentException("the CompletionListener must not be null");
        return l;
    }

    private void send(Destination to, Message message, int mode, int prio, long ttl, CompletionListener listener,
            boolean destinationGiven) throws JMSException {
        checkClosed();
        if (message == null) throw new MessageFormatException("the message must not be null");
        checkDeliveryMode(mode);
        checkPriority(prio);
        HeraldDestination target;
        if (destinationGiven) {
            if (destination != null) {
                throw new UnsupportedOperationException("this producer was created with a destination (" + destination + "); use send(Message)");
            }
            if (to == null) throw new InvalidDestinationException("the destination must not be null");
            target = HeraldDestination.of(to);
        } else {
            if (destination == null) {
                throw new UnsupportedOperationException("this producer has no destination; use send(Destination, Message)");
            }
            target = null;
        }
        if (listener == null) {
            doSend(target, message, mode, prio, ttl);
            return;
        }
        // Herald's sends complete before the native call returns; the listener is told on the
        // session's completion thread, in send order.
        JMSException failure = null;
        try {
            doSend(target, message, mode, prio, ttl);
        } catch (JMSException e) {
            failure = e;
        }
        JMSException f = failure;
        session.runCompletion(() -> {
            if (f == null) listener.onCompletion(message);
            else listener.onException(message, f);
        });
    }

    HeraldMessage doSend(HeraldDestination target, Message message, int mode, int prio, long ttl) throws JMSException {
        HeraldMessage m = message instanceof HeraldMessage ? (HeraldMessage) message : copyForeign(message);
        MsgPack.Writer encoded;
        HeraldDestination dest = target != null ? target : destination;
        HeraldDestination before = HeraldDestination.of(m.destination);
        m.destination = dest;
        try {
            encoded = MessageCodec.encodeToWriter(m);
        } catch (IllegalArgumentException e) {
            m.destination = before;
            MessageFormatException f = new MessageFormatException(e.getMessage());
            f.initCause(e);
            throw f;
        }
        long[] sent = new long[6];
        session.transaction.onWork();
        resource.run((p, h) -> p.send(h, target == null ? null : target.uri(), encoded.buffer(), encoded.length(),
                mode, prio, ttl, deliveryDelay, disableMessageId, disableTimestamp, sent));
        if (sent[3] != 0) {
            m.setMessageId(sent[4], sent[5]);
        } else {
            m.setJMSMessageID(null);
        }
        m.timestamp = sent[0];
        m.expiration = sent[1];
        m.deliveryTime = sent[2];
        m.deliveryMode = mode;
        m.priority = prio;
        if (message != m) {
            // JMS: the headers send sets are visible on the application's own message object.
            message.setJMSDestination(dest);
            message.setJMSDeliveryMode(mode);
            message.setJMSPriority(prio);
            message.setJMSExpiration(sent[1]);
            message.setJMSTimestamp(sent[0]);
            message.setJMSMessageID(m.getJMSMessageID());
            message.setJMSDeliveryTime(sent[2]);
        }
        return m;
    }

    /** A message of another provider, copied into Herald's form (headers, properties, body). */
    static HeraldMessage copyForeign(Message f) throws JMSException {
        HeraldMessage m;
        if (f instanceof javax.jms.TextMessage) {
            m = new HeraldTextMessage(((javax.jms.TextMessage) f).getText());
        } else if (f instanceof javax.jms.BytesMessage) {
            javax.jms.BytesMessage b = (javax.jms.BytesMessage) f;
            b.reset();
            byte[] body = new byte[(int) b.getBodyLength()];
            b.readBytes(body);
            HeraldBytesMessage hb = new HeraldBytesMessage();
            hb.writeBytes(body);
            m = hb;
        } else if (f instanceof javax.jms.MapMessage) {
            javax.jms.MapMessage mm = (javax.jms.MapMessage) f;
            HeraldMapMessage hm = new HeraldMapMessage();
            for (Enumeration<?> e = mm.getMapNames(); e.hasMoreElements();) {
                String n = (String) e.nextElement();
                hm.setObject(n, mm.getObject(n));
            }
            m = hm;
        } else if (f instanceof javax.jms.StreamMessage) {
            javax.jms.StreamMessage sm = (javax.jms.StreamMessage) f;
            sm.reset();
            HeraldStreamMessage hs = new HeraldStreamMessage();
            try {
                while (true) hs.writeObject(sm.readObject());
            } catch (javax.jms.MessageEOFException end) {
                // all elements copied
            }
            m = hs;
        } else if (f instanceof javax.jms.ObjectMessage) {
            HeraldObjectMessage ho = new HeraldObjectMessage();
            ho.setObject(((javax.jms.ObjectMessage) f).getObject());
            m = ho;
        } else {
            m = new HeraldMessage();
        }
        m.correlationId = f.getJMSCorrelationID();
        m.replyTo = f.getJMSReplyTo();
        m.type = f.getJMSType();
        for (Enumeration<?> e = f.getPropertyNames(); e.hasMoreElements();) {
            String n = (String) e.nextElement();
            if (!n.startsWith("JMSX")) m.setObjectProperty(n, f.getObjectProperty(n));
        }
        return m;
    }

    void markClosed() {
        closed = true;
        resource.release();
    }

    @Override public void close() throws JMSException {
        if (closed) return;
        markClosed();
        session.removeProducer(this);
    }
}
