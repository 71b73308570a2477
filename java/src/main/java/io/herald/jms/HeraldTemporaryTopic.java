package io.herald.jms;

import javax.jms.JMSException;

public final class HeraldTemporaryTopic extends HeraldDestination implements javax.jms.TemporaryTopic {
    private static final long serialVersionUID = 1L;
    final transient HeraldConnection owner;

    HeraldTemporaryTopic(String name, HeraldConnection owner) {
        super(name);
        this.owner = owner;
    }

    @Override String scheme() { return "temp-topic"; }

    @Override public String getTopicName() { return name; }

    @Override public void delete() throws JMSException {
        if (owner == null) throw new javax.jms.IllegalStateException("only the connection that created " + this + " can delete it");
        owner.deleteTemporary(this);
    }
}
