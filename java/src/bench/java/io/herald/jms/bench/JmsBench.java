package io.herald.jms.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;

import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.ConnectionFactory;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TemporaryQueue;
import javax.jms.Topic;

/**
 * Throughput and latency of any JMS provider, scenario by scenario, 1 KiB messages:
 *
 * <pre>
 * java -cp herald-jms.jar:javax.jms-api.jar:bench.jar io.herald.jms.bench.JmsBench \
 *     [--factory CLASS] [--url URL] [--label NAME] [--messages N] [--np-messages N] [--backlog N] [--only LIST]
 * </pre>
 *
 * {@code --messages} is the count of the persistent scenarios; the non-persistent ones
 * (1P/1C non-persistent, topic fan-out), which take a fraction of a second at that count,
 * send {@code --np-messages} (default 5 x {@code --messages}) so that they measure the
 * steady state rather than the JIT warming up.
 *
 * {@code --only} runs some scenarios (for profiling one): a comma-separated list of
 * {@code np} (1P/1C non-persistent), {@code p} (1P/1C persistent), {@code tx}, {@code 4p4c},
 * {@code fanout}, {@code backlog}, {@code rr}.
 *
 * {@code --factory} names a ConnectionFactory class with a public (String url) constructor
 * (Herald's, ActiveMQ's, Artemis's); the default is Herald's. Prints one line per scenario:
 * {@code label  scenario  value unit}, so runs against several brokers line up side by side.
 */
public final class JmsBench {
    private final ConnectionFactory factory;
    private final String label;
    private int messages;
    private int npMessages;
    private int backlog = 100_000;
    private final byte[] body = new byte[1024];
    private int run;
    private java.util.Set<String> only;

    JmsBench(ConnectionFactory factory, String label, int messages) {
        this.factory = factory;
        this.label = label;
        this.messages = messages;
        Arrays.fill(body, (byte) 'x');
    }

    public static void main(String[] args) throws Exception {
        String factoryClass = "io.herald.jms.HeraldConnectionFactory";
        String url = "vm://bench";
        String label = null;
        int messages = 100_000;
        int npMessages = -1;
        int backlog = 100_000;
        java.util.Set<String> only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--factory": factoryClass = args[++i]; break;
                case "--url": url = args[++i]; break;
                case "--label": label = args[++i]; break;
                case "--messages": messages = Integer.parseInt(args[++i]); break;
                case "--np-messages": npMessages = Integer.parseInt(args[++i]); break;
                case "--backlog": backlog = Integer.parseInt(args[++i]); break;
                case "--only": only = new java.util.HashSet<>(Arrays.asList(args[++i].split(","))); break;
                default:
                    System.err.println("usage: JmsBench [--factory CLASS] [--url URL] [--label NAME] [--messages N] [--np-messages N] [--backlog N] [--only LIST]");
                    System.exit(2);
            }
        }
        ConnectionFactory f = (ConnectionFactory) Class.forName(factoryClass).getConstructor(String.class).newInstance(url);
        JmsBench b = new JmsBench(f, label != null ? label : url, messages);
        b.backlog = backlog;
        b.npMessages = npMessages > 0 ? npMessages : 5 * messages;
        b.only = only;
        b.all();
        System.exit(0);
    }

    void all() throws Exception {
        // Warm up the JIT (and the broker) on the queue and topic paths, so the first
        // scenario of each is not penalised.
        int full = messages;
        messages = Math.max(1000, npMessages / 10);
        throughput(1, 1, DeliveryMode.NON_PERSISTENT, false);
        fanOut(4);
        messages = npMessages;
        if (runs("np")) report("1P/1C non-persistent", throughput(1, 1, DeliveryMode.NON_PERSISTENT, false), "msg/s");
        messages = full;
        if (runs("p")) report("1P/1C persistent", throughput(1, 1, DeliveryMode.PERSISTENT, false), "msg/s");
        if (runs("tx")) report("1P/1C transacted x100", throughput(1, 1, DeliveryMode.PERSISTENT, true), "msg/s");
        if (runs("4p4c")) report("4P/4C persistent", throughput(4, 4, DeliveryMode.PERSISTENT, false), "msg/s");
        messages = npMessages;
        if (runs("fanout")) report("topic fan-out 1P/4S", fanOut(4), "msg/s");
        messages = full;
        if (runs("backlog")) report("backlog " + backlog + " then drain", backlog(backlog), "msg/s");
        if (runs("rr")) {
            long[] rr = requestReply(Math.max(1000, messages / 20));
            report("request/reply p50", rr[0] / 1000.0, "us");
            report("request/reply p99", rr[1] / 1000.0, "us");
        }
    }

    private boolean runs(String scenario) {
        return only == null || only.contains(scenario);
    }

    private void report(String scenario, double value, String unit) {
        System.out.printf("%-28s %-28s %12.1f %s%n", label, scenario, value, unit);
    }

    private String fresh(String base) {
        return base + "-" + (++run) + "-" + System.nanoTime();
    }

    private BytesMessage message(Session s) throws Exception {
        BytesMessage m = s.createBytesMessage();
        m.writeBytes(body);
        return m;
    }

    /** Producers send {@code messages} in all, consumers take them; messages per second end to end. */
    double throughput(int producers, int consumers, int mode, boolean transacted) throws Exception {
        String name = fresh("bench");
        int perProducer = messages / producers;
        int total = perProducer * producers;
        CyclicBarrier start = new CyclicBarrier(producers + consumers + 1);
        AtomicLong received = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        List<Connection> connections = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < consumers; i++) {
            Connection c = factory.createConnection();
            connections.add(c);
            c.start();
            Session s = transacted ? c.createSession(true, Session.SESSION_TRANSACTED) : c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue(name));
            threads.add(new Thread(() -> {
                try {
                    start.await();
                    int batch = 0;
                    while (received.get() < total) {
                        Message m = consumer.receive(100);
                        if (m != null) {
                            received.incrementAndGet();
                            if (transacted && ++batch == 100) {
                                s.commit();
                                batch = 0;
                            }
                        } else if (transacted && batch > 0) {
                            s.commit();
                            batch = 0;
                        }
                    }
                    if (transacted) s.commit();
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (int i = 0; i < producers; i++) {
            Connection c = factory.createConnection();
            connections.add(c);
            Session s = transacted ? c.createSession(true, Session.SESSION_TRANSACTED) : c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue(name));
            p.setDeliveryMode(mode);
            threads.add(new Thread(() -> {
                try {
                    start.await();
                    for (int n = 1; n <= perProducer; n++) {
                        p.send(message(s));
                        if (transacted && n % 100 == 0) s.commit();
                    }
                    if (transacted) s.commit();
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (Thread t : threads) t.start();
        start.await();
        long began = System.nanoTime();
        for (Thread t : threads) t.join();
        long elapsed = System.nanoTime() - began;
        for (Connection c : connections) c.close();
        if (!failures.isEmpty()) throw new RuntimeException(failures.get(0));
        return total / (elapsed / 1e9);
    }

    /** One producer publishes to a topic with {@code subscribers} subscribers; deliveries per second. */
    double fanOut(int subscribers) throws Exception {
        String name = fresh("fanout");
        int total = messages / 2;
        CountDownLatch done = new CountDownLatch(subscribers);
        List<Connection> connections = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < subscribers; i++) {
            Connection c = factory.createConnection();
            connections.add(c);
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createTopic(name));
            threads.add(new Thread(() -> {
                try {
                    for (int n = 0; n < total; n++) {
                        if (consumer.receive(10_000) == null) break;
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                } finally {
                    done.countDown();
                }
            }));
        }
        Connection pc = factory.createConnection();
        connections.add(pc);
        Session ps = pc.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Topic topic = ps.createTopic(name);
        MessageProducer p = ps.createProducer(topic);
        p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
        for (Thread t : threads) t.start();
        long began = System.nanoTime();
        for (int n = 0; n < total; n++) p.send(message(ps));
        done.await();
        long elapsed = System.nanoTime() - began;
        for (Connection c : connections) c.close();
        return (double) total * subscribers / (elapsed / 1e9);
    }

    /**
     * Fills a queue with {@code count} persistent messages (in transactions of 1000, to
     * fill quickly; the filling is not measured), then drains it with an AUTO_ACKNOWLEDGE
     * consumer; the drain rate.
     */
    double backlog(int count) throws Exception {
        String name = fresh("backlog");
        try (Connection c = factory.createConnection()) {
            Session filler = c.createSession(true, Session.SESSION_TRANSACTED);
            Queue q = filler.createQueue(name);
            MessageProducer p = filler.createProducer(q);
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            for (int n = 1; n <= count; n++) {
                p.send(message(filler));
                if (n % 1000 == 0) filler.commit();
            }
            filler.commit();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            c.start();
            MessageConsumer consumer = s.createConsumer(q);
            long began = System.nanoTime();
            int got = 0;
            while (got < count && consumer.receive(10_000) != null) got++;
            if (got < count) throw new IllegalStateException("drained " + got + " of " + count + " messages");
            return got / ((System.nanoTime() - began) / 1e9);
        }
    }

    /** Round trips through a responder over a temporary reply queue; {p50, p99} in nanoseconds. */
    long[] requestReply(int count) throws Exception {
        String name = fresh("rpc");
        try (Connection server = factory.createConnection(); Connection client = factory.createConnection()) {
            server.start();
            client.start();
            Session ss = server.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer requests = ss.createConsumer(ss.createQueue(name));
            MessageProducer replies = ss.createProducer(null);
            replies.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            Thread responder = new Thread(() -> {
                try {
                    for (int n = 0; n < count; n++) {
                        Message m = requests.receive(10_000);
                        if (m == null) return;
                        Destination to = m.getJMSReplyTo();
                        replies.send(to, ss.createTextMessage("pong"));
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            responder.start();
            Session cs = client.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TemporaryQueue replyQueue = cs.createTemporaryQueue();
            MessageConsumer replyConsumer = cs.createConsumer(replyQueue);
            MessageProducer p = cs.createProducer(cs.createQueue(name));
            p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            long[] rtt = new long[count];
            for (int n = 0; n < count; n++) {
                Message m = cs.createTextMessage("ping");
                m.setJMSReplyTo(replyQueue);
                long t0 = System.nanoTime();
                p.send(m);
                if (replyConsumer.receive(10_000) == null) throw new IllegalStateException("no reply");
                rtt[n] = System.nanoTime() - t0;
            }
            responder.join();
            Arrays.sort(rtt);
            return new long[] {rtt[count / 2], rtt[(int) (count * 0.99)]};
        }
    }
}
