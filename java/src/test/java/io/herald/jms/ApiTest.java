package io.herald.jms;

import static org.junit.Assert.*;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.jms.CompletionListener;
import javax.jms.Connection;
import javax.jms.ConnectionMetaData;
import javax.jms.IllegalStateException;
import javax.jms.InvalidClientIDException;
import javax.jms.InvalidDestinationException;
import javax.jms.JMSConsumer;
import javax.jms.JMSContext;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageFormatRuntimeException;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.QueueConnection;
import javax.jms.QueueReceiver;
import javax.jms.QueueRequestor;
import javax.jms.QueueSender;
import javax.jms.QueueSession;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;
import javax.jms.TopicConnection;
import javax.jms.TopicPublisher;
import javax.jms.TopicRequestor;
import javax.jms.TopicSession;
import javax.jms.TopicSubscriber;

import org.junit.Test;

/** JMSContext, the classic domain interfaces, async send, metadata, serialization, misuse. */
public class ApiTest extends JmsTestBase {

    @Test
    public void jmsContextSendsAndReceivesBodies() throws Exception {
        try (JMSContext ctx = factory.createContext()) {
            Queue q = ctx.createQueue("ctx");
            ctx.createProducer().setProperty("k", 3).setPriority(7).send(q, "simple");
            JMSConsumer consumer = ctx.createConsumer(q);
            Message m = consumer.receive(2000);
            assertEquals("simple", m.getBody(String.class));
            assertEquals(3, m.getIntProperty("k"));
            assertEquals(7, m.getJMSPriority());
            ctx.createProducer().send(q, new byte[] {1, 2});
            assertArrayEquals(new byte[] {1, 2}, consumer.receiveBody(byte[].class, 2000));
            try (JMSContext tx = ctx.createContext(JMSContext.SESSION_TRANSACTED)) {
                tx.createProducer().send(q, "in tx");
                assertNull(consumer.receiveBody(String.class, 100));
                tx.commit();
                assertEquals("in tx", consumer.receiveBody(String.class, 2000));
            }
        }
    }

    /** JMS 2.0, JMSConsumer.receiveBody: in AUTO_ACKNOWLEDGE a body of the wrong type is not acknowledged. */
    @Test(timeout = 60_000)
    public void aBodyOfTheWrongTypeIsNotAcknowledgedAndComesAgainFirst() throws Exception {
        try (JMSContext ctx = factory.createContext()) {
            Queue q = ctx.createQueue("wrong-body");
            ctx.createProducer().send(q, new byte[] {7});
            ctx.createProducer().send(q, "after");
            JMSConsumer consumer = ctx.createConsumer(q);
            try {
                consumer.receiveBody(String.class, 2000);
                fail("a BytesMessage's body is not a String");
            } catch (MessageFormatRuntimeException expected) {
            }
            assertArrayEquals(new byte[] {7}, consumer.receiveBody(byte[].class, 2000));
            assertEquals("after", consumer.receiveBody(String.class));
            assertNull(consumer.receiveBodyNoWait(String.class));
        }
    }

    @Test
    public void classicQueueAndTopicInterfaces() throws Exception {
        QueueConnection qc = closeLater(factory.createQueueConnection());
        qc.start();
        QueueSession qs = qc.createQueueSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = qs.createQueue("classic");
        QueueSender sender = qs.createSender(q);
        QueueReceiver receiver = qs.createReceiver(q);
        sender.send(qs.createTextMessage("p2p"));
        assertEquals("p2p", ((TextMessage) receiver.receive(2000)).getText());
        assertEquals(q, receiver.getQueue());
        try {
            qs.createTopic("nope");
            fail("a QueueSession refuses topic calls");
        } catch (IllegalStateException expected) {
        }
        try {
            qs.createDurableSubscriber(new HeraldTopic("t"), "x");
            fail();
        } catch (IllegalStateException expected) {
        }

        TopicConnection tc = closeLater(factory.createTopicConnection());
        tc.start();
        TopicSession ts = tc.createTopicSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic t = ts.createTopic("classic-topic");
        TopicSubscriber sub = ts.createSubscriber(t);
        TopicPublisher pub = ts.createPublisher(t);
        pub.publish(ts.createTextMessage("pubsub"));
        assertEquals("pubsub", ((TextMessage) sub.receive(2000)).getText());
        try {
            ts.createBrowser(new HeraldQueue("q"));
            fail("a TopicSession refuses queue calls");
        } catch (IllegalStateException expected) {
        }
        try {
            ts.createQueue("q");
            fail();
        } catch (IllegalStateException expected) {
        }
    }

    /**
     * The JMS API's own request/reply helpers, which build on temporary destinations. Their
     * request() waits without a timeout: a hang fails the test instead of the build.
     */
    @Test(timeout = 60_000)
    public void queueAndTopicRequestorsGetTheirReplies() throws Exception {
        QueueConnection qc = closeLater(factory.createQueueConnection());
        QueueSession service = qc.createQueueSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue requests = service.createQueue("requestor");
        QueueSender answer = service.createSender(null);
        service.createReceiver(requests).setMessageListener(m -> {
            try {
                answer.send((Queue) m.getJMSReplyTo(), service.createTextMessage("re: " + ((TextMessage) m).getText()));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        qc.start();
        QueueSession client = qc.createQueueSession(false, Session.AUTO_ACKNOWLEDGE);
        QueueRequestor requestor = new QueueRequestor(client, requests);
        assertEquals("re: one", ((TextMessage) requestor.request(client.createTextMessage("one"))).getText());
        assertEquals("re: two", ((TextMessage) requestor.request(client.createTextMessage("two"))).getText());
        requestor.close();

        TopicConnection tc = closeLater(factory.createTopicConnection());
        TopicSession listener = tc.createTopicSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic questions = listener.createTopic("requestor-topic");
        TopicPublisher reply = listener.createPublisher(null);
        listener.createSubscriber(questions).setMessageListener(m -> {
            try {
                reply.publish((Topic) m.getJMSReplyTo(), listener.createTextMessage("heard " + ((TextMessage) m).getText()));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        tc.start();
        TopicSession asker = tc.createTopicSession(false, Session.AUTO_ACKNOWLEDGE);
        TopicRequestor topicRequestor = new TopicRequestor(asker, questions);
        assertEquals("heard ping", ((TextMessage) topicRequestor.request(asker.createTextMessage("ping"))).getText());
        topicRequestor.close();
    }

    @Test
    public void asyncSendCallsTheCompletionListener() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("async");
        MessageProducer p = s.createProducer(q);
        CompletableFuture<Message> done = new CompletableFuture<>();
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        TextMessage m = s.createTextMessage("async");
        p.send(m, new CompletionListener() {
            @Override public void onCompletion(Message message) {
                thread.complete(Thread.currentThread());
                try {
                    s.close();
                    done.completeExceptionally(new AssertionError("close from a CompletionListener must fail"));
                } catch (IllegalStateException expected) {
                    done.complete(message);
                } catch (Exception e) {
                    done.completeExceptionally(e);
                }
            }

            @Override public void onException(Message message, Exception e) {
                done.completeExceptionally(e);
            }
        });
        assertSame(m, done.get(5, TimeUnit.SECONDS));
        assertNotSame(Thread.currentThread(), thread.get());
        assertNotNull(m.getJMSMessageID());
        assertEquals("async", ((TextMessage) s.createConsumer(q).receive(2000)).getText());
    }

    @Test
    public void metaDataAndClientIds() throws Exception {
        Connection c = connection();
        ConnectionMetaData md = c.getMetaData();
        assertEquals("Herald", md.getJMSProviderName());
        assertTrue(md.getJMSMajorVersion() >= 2);
        assertEquals("JMSXDeliveryCount", java.util.Collections.list(md.getJMSXPropertyNames()).get(0));
        try {
            c.setClientID("late");
            fail("the connection has been used");
        } catch (IllegalStateException expected) {
        }
        Connection a = closeLater(factory.createConnection());
        a.setClientID("unique");
        Connection b = closeLater(factory.createConnection());
        try {
            b.setClientID("unique");
            fail();
        } catch (InvalidClientIDException expected) {
        }
    }

    @Test
    public void destinationsAndFactoryAreSerializable() throws Exception {
        HeraldQueue q = new HeraldQueue("ser");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(q);
            out.writeObject(factory);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(q, in.readObject());
            assertEquals(url, ((HeraldConnectionFactory) in.readObject()).getUrl());
        }
        assertEquals(q, new HeraldObjectFactory().getObjectInstance(q.getReference(), null, null, null));
    }

    @Test
    public void misuseThrowsInsteadOfCrashing() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("misuse");
        MessageProducer p = s.createProducer(q);
        MessageConsumer consumer = s.createConsumer(q);
        try {
            s.createConsumer(null);
            fail();
        } catch (InvalidDestinationException expected) {
        }
        try {
            s.createProducer(null).send(null, s.createTextMessage("x"));
            fail();
        } catch (InvalidDestinationException expected) {
        }
        try {
            s.commit();
            fail();
        } catch (IllegalStateException expected) {
        }
        try {
            p.setPriority(10);
            fail();
        } catch (javax.jms.JMSException expected) {
        }
        // A huge message crosses in one piece.
        byte[] big = new byte[8 << 20];
        for (int i = 0; i < big.length; i += 4096) big[i] = (byte) i;
        javax.jms.BytesMessage bm = s.createBytesMessage();
        bm.writeBytes(big);
        p.send(bm);
        javax.jms.BytesMessage gotBig = (javax.jms.BytesMessage) consumer.receive(10000);
        assertEquals(big.length, gotBig.getBodyLength());
        byte[] back = new byte[big.length];
        gotBig.readBytes(back);
        assertArrayEquals(big, back);

        // Closing twice is harmless; use after close is an IllegalStateException.
        consumer.close();
        consumer.close();
        try {
            consumer.receive(10);
            fail();
        } catch (IllegalStateException expected) {
        }
        s.close();
        s.close();
        try {
            p.send(s.createTextMessage("x"));
            fail();
        } catch (IllegalStateException expected) {
        }
        try {
            s.createTextMessage("x");
            fail();
        } catch (IllegalStateException expected) {
        }
        c.close();
        c.close();
        try {
            c.createSession();
            fail();
        } catch (IllegalStateException expected) {
        }
    }

    @Test
    public void closingAConnectionEndsABlockedReceive() throws Exception {
        Connection c = factory.createConnection();
        c.start();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = s.createConsumer(s.createQueue("never"));
        CompletableFuture<Message> result = CompletableFuture.supplyAsync(() -> {
            try {
                return consumer.receive();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(200);
        c.close();
        assertNull("receive returns null once its consumer is closed", result.get(5, TimeUnit.SECONDS));
    }

    @Test
    public void sessionUsedFromTwoThreadsDoesNotCrash() throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("two-threads");
        MessageProducer p = s.createProducer(q);
        Runnable send = () -> {
            try {
                for (int i = 0; i < 500; i++) p.send(s.createTextMessage("t"));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
        Thread t1 = new Thread(send);
        Thread t2 = new Thread(send);
        t1.start();
        t2.start();
        t1.join();
        t2.join();
        MessageConsumer consumer = s.createConsumer(q);
        int n = 0;
        while (consumer.receive(200) != null) n++;
        assertEquals(1000, n);
    }

    @Test
    public void closedHandlesAreReleased() throws Exception {
        int before = Native.liveCount();
        for (int i = 0; i < 200; i++) {
            Connection c = factory.createConnection();
            Session s = c.createSession();
            s.createConsumer(s.createQueue("leak")).close();
            s.createProducer(s.createQueue("leak"));
            c.close();
        }
        assertEquals(before, Native.liveCount());
    }
}
