package io.herald.jms;

import javax.jms.JMSException;

public final class HeraldTemporaryQueue extends HeraldDestination implements javax.jms.TemporaryQueue {
    private static final long serialVersionUID = 1L;
    /** The connection that created it; null for one named in a received message. */
    final transient HeraldConnection owner;

    HeraldTemporaryQueue(String name, HeraldConnection owner) {
        super(name);
        this.owner = owner;
    }

    @Override String scheme() { return "temp-queue"; }

    @Override public String getQueueName() { return name; }

    @Override public void delete() throws JMSException {
        if (owner == null) throw new javax.jms.IllegalStateException("only the connection that created " + this + " can delete it");
        owner.deleteTemporary(this);
    }
}
