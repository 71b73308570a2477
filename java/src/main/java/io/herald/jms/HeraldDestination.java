package io.herald.jms;

import java.io.Serializable;
import java.util.Objects;

import javax.jms.Destination;
import javax.jms.InvalidDestinationException;
import javax.jms.JMSException;
import javax.naming.NamingException;
import javax.naming.Reference;
import javax.naming.Referenceable;
import javax.naming.StringRefAddr;

/**
 * A queue or topic by name. Serializable and Referenceable, so it can be bound in JNDI;
 * its native form is a URI such as {@code queue://orders}.
 */
public abstract class HeraldDestination implements Destination, Serializable, Referenceable {
    private static final long serialVersionUID = 1L;

    final String name;

    HeraldDestination(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a destination name must not be null or empty");
        }
        this.name = name;
    }

    abstract String scheme();

    /** The native form, as herald-core's Destination::parse reads it. */
    String uri() {
        return scheme() + "://" + name;
    }

    static HeraldDestination parse(String uri) {
        if (uri == null) return null;
        int at = uri.indexOf("://");
        String scheme = uri.substring(0, at);
        String name = uri.substring(at + 3);
        switch (scheme) {
            case "queue": return new HeraldQueue(name);
            case "topic": return new HeraldTopic(name);
            case "temp-queue": return new HeraldTemporaryQueue(name, null);
            case "temp-topic": return new HeraldTemporaryTopic(name, null);
            default: throw new IllegalArgumentException("unknown destination " + uri);
        }
    }

    /** A destination given by the application, as one of Herald's. */
    static HeraldDestination of(Destination d) throws JMSException {
        if (d == null) return null;
        if (d instanceof HeraldDestination) return (HeraldDestination) d;
        if (d instanceof javax.jms.TemporaryQueue || d instanceof javax.jms.TemporaryTopic) {
            throw new InvalidDestinationException("a temporary destination of another provider cannot be used: " + d);
        }
        if (d instanceof javax.jms.Queue) return new HeraldQueue(((javax.jms.Queue) d).getQueueName());
        if (d instanceof javax.jms.Topic) return new HeraldTopic(((javax.jms.Topic) d).getTopicName());
        throw new InvalidDestinationException("not a Queue or Topic: " + d);
    }

    boolean isQueue() {
        return this instanceof javax.jms.Queue;
    }

    @Override public Reference getReference() throws NamingException {
        Reference ref = new Reference(getClass().getName(), HeraldObjectFactory.class.getName(), null);
        ref.add(new StringRefAddr("uri", uri()));
        return ref;
    }

    @Override public boolean equals(Object o) {
        return o instanceof HeraldDestination && ((HeraldDestination) o).uri().equals(uri());
    }

    @Override public int hashCode() {
        return Objects.hash(scheme(), name);
    }

    @Override public String toString() {
        return uri();
    }
}
