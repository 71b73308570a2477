package io.herald.jms;

import javax.jms.Connection;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;

/**
 * Run in its own JVM by {@link JvmExitTest}: uses listeners, async sends and a
 * connection left open, then returns from main. The JVM must exit: no Herald thread may
 * keep it alive.
 */
public final class ExitProbe {
    public static void main(String[] args) throws Exception {
        HeraldConnectionFactory f = new HeraldConnectionFactory("vm://exit-probe");
        Connection closed = f.createConnection();
        closed.start();
        Session s = closed.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("exit");
        java.util.concurrent.CountDownLatch got = new java.util.concurrent.CountDownLatch(1);
        s.createConsumer(q).setMessageListener(m -> got.countDown());
        MessageProducer p = s.createProducer(q);
        p.send(s.createTextMessage("x"), new javax.jms.CompletionListener() {
            @Override public void onCompletion(javax.jms.Message m) {}
            @Override public void onException(javax.jms.Message m, Exception e) {}
        });
        if (!got.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
            System.exit(3);
        }
        closed.close();

        // Left open on purpose, with a listener waiting and an ExceptionListener (whose
        // thread sits in a native wait): their threads must not hold the JVM.
        Connection open = f.createConnection();
        open.setExceptionListener(e -> {});
        open.start();
        Session s2 = open.createSession(false, Session.AUTO_ACKNOWLEDGE);
        s2.createConsumer(s2.createQueue("idle")).setMessageListener(m -> {});
        System.out.println("probe done");
    }
}
