package io.herald.jms;

public class HeraldQueue extends HeraldDestination implements javax.jms.Queue {
    private static final long serialVersionUID = 1L;

    public HeraldQueue(String name) { super(name); }

    @Override String scheme() { return "queue"; }

    @Override public String getQueueName() { return name; }
}
