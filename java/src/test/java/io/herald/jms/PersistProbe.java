package io.herald.jms;

import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;

/**
 * Run in child JVMs by {@link PersistenceTest}: {@code send DIR} sends one persistent and
 * one non-persistent message to an embedded broker journaling in DIR, then the JVM exits
 * without closing anything; {@code receive DIR} prints what a new broker on DIR delivers.
 */
public final class PersistProbe {
    public static void main(String[] args) throws Exception {
        HeraldConnectionFactory f = new HeraldConnectionFactory("vm://persist?dataDir=" + args[1]);
        Connection c = f.createConnection();
        c.start();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("durable-orders");
        if (args[0].equals("send")) {
            MessageProducer p = s.createProducer(q);
            p.send(s.createTextMessage("kept"), DeliveryMode.PERSISTENT, 4, 0);
            p.send(s.createTextMessage("lost"), DeliveryMode.NON_PERSISTENT, 4, 0);
            System.out.println("sent");
            Runtime.getRuntime().halt(0);
        }
        MessageConsumer consumer = s.createConsumer(q);
        Message m;
        while ((m = consumer.receive(500)) != null) {
            System.out.println("got " + ((TextMessage) m).getText());
        }
        c.close();
    }
}
