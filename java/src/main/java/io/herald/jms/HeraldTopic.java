package io.herald.jms;

public class HeraldTopic extends HeraldDestination implements javax.jms.Topic {
    private static final long serialVersionUID = 1L;

    public HeraldTopic(String name) { super(name); }

    @Override String scheme() { return "topic"; }

    @Override public String getTopicName() { return name; }
}
