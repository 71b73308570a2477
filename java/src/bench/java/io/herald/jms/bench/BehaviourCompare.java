package io.herald.jms.bench;

import java.util.ArrayList;
import java.util.List;

import javax.jms.Connection;
import javax.jms.ConnectionFactory;
import javax.jms.DeliveryMode;
import javax.jms.Destination;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;

/**
 * Runs the same random JMS 1.1 program against Herald and another provider and prints, per
 * seed, the first step whose outcome differs (with the history of the session it concerns),
 * so Herald's behaviour can be checked against a reference broker's:
 *
 * <pre>
 * java -cp herald-jms.jar:javax.jms-api.jar:bench.jar:REFERENCE_CLIENT_JARS io.herald.jms.bench.BehaviourCompare \
 *     --factory CLASS --url URL [--herald-url vm://compare] [--seeds FIRST-LAST] [--steps N]
 * </pre>
 *
 * A program has four sessions (AUTO_ACKNOWLEDGE, CLIENT_ACKNOWLEDGE or transacted), each with
 * a producer and one consumer: of its own queue, of a shared topic, or of a durable
 * subscription to it. Its steps send PERSISTENT messages (numbered, with properties {@code n}
 * and {@code color}), receive, acknowledge, recover, commit, roll back, and close and reopen a
 * consumer with a selector. A step's outcome is the message received (with JMSRedelivered and
 * JMSXDeliveryCount), nothing, or the class of the exception.
 *
 * A difference is not necessarily a fault of either side: JMS leaves some things to the
 * provider (when a closed consumer's unacknowledged messages come back, how many deliveries
 * before the dead-letter queue, which subscriptions a transacted publish reaches). Exits 1 when
 * some seed differs.
 */
public final class BehaviourCompare {
    private static final int SESSIONS = 4;
    private static final String[] SELECTORS = {null, null, "color = 'red'", "n > 3"};
    private static final int QUEUE = 0, TOPIC = 1, DURABLE = 2;

    /** xorshift64*, repeatable from its seed. */
    private long state;

    private BehaviourCompare(long seed) {
        state = seed * 0x9E3779B97F4A7C15L | 1;
    }

    private int below(int n) {
        state ^= state >>> 12;
        state ^= state << 25;
        state ^= state >>> 27;
        return (int) Long.remainderUnsigned(state * 0x2545F4914F6CDD1DL, n);
    }

    private enum Kind { SEND, RECEIVE, ACKNOWLEDGE, RECOVER, COMMIT, ROLLBACK, REOPEN }

    /** How often each kind is drawn, out of the sum. */
    private static final int[] WEIGHTS = {7, 7, 1, 1, 1, 1, 2};

    private static final class Step {
        Kind kind;
        int session;
        /** SEND: the queue of session {@code to}, or the topic when {@code to == SESSIONS}. */
        int to;
        int n;
        /** REOPEN: the new consumer's selector. */
        String selector;

        @Override
        public String toString() {
            switch (kind) {
                case SEND: return "send m" + n + " from s" + session + " to " + (to == SESSIONS ? "the topic" : "q" + to);
                case REOPEN: return "reopen s" + session + "'s consumer, selector " + selector;
                default: return kind.name().toLowerCase() + " s" + session;
            }
        }
    }

    /** One program: the sessions' modes, what their consumers read, and the steps. */
    private static final class Program {
        final int[] modes = new int[SESSIONS];
        final int[] reads = new int[SESSIONS];
        final List<Step> steps = new ArrayList<>();
    }

    private Program program(int length) {
        Program p = new Program();
        int[] modes = {Session.AUTO_ACKNOWLEDGE, Session.CLIENT_ACKNOWLEDGE, Session.SESSION_TRANSACTED};
        for (int i = 0; i < SESSIONS; i++) {
            p.modes[i] = modes[below(modes.length)];
            p.reads[i] = new int[] {QUEUE, QUEUE, TOPIC, DURABLE}[below(4)];
        }
        int total = 0;
        for (int w : WEIGHTS) total += w;
        int n = 0;
        for (int k = 0; k < length; k++) {
            Step s = new Step();
            int pick = below(total);
            int kind = 0;
            while (pick >= WEIGHTS[kind]) pick -= WEIGHTS[kind++];
            s.kind = Kind.values()[kind];
            s.session = below(SESSIONS);
            if (s.kind == Kind.SEND) {
                s.n = ++n;
                s.to = below(SESSIONS + 1);
            }
            if (s.kind == Kind.REOPEN) s.selector = SELECTORS[below(SELECTORS.length)];
            p.steps.add(s);
        }
        return p;
    }

    /**
     * Runs {@code p} on a connection of {@code factory}; names are prefixed with {@code tag}.
     * {@code expected} (the outcomes on the other provider) tells a receive to wait long for a
     * message the other provider delivered; otherwise it waits 300 ms.
     */
    private static List<String> run(ConnectionFactory factory, Program p, String tag, List<String> expected) throws JMSException {
        List<String> outcomes = new ArrayList<>();
        try (Connection c = factory.createConnection()) {
            c.setClientID("compare-" + tag);
            Session[] sessions = new Session[SESSIONS];
            MessageProducer[] producers = new MessageProducer[SESSIONS];
            MessageConsumer[] consumers = new MessageConsumer[SESSIONS];
            Message[] last = new Message[SESSIONS];
            for (int i = 0; i < SESSIONS; i++) {
                boolean transacted = p.modes[i] == Session.SESSION_TRANSACTED;
                sessions[i] = c.createSession(transacted, transacted ? Session.SESSION_TRANSACTED : p.modes[i]);
                producers[i] = sessions[i].createProducer(null);
                consumers[i] = consumer(sessions[i], i, p.reads[i], null, tag);
            }
            c.start();
            for (int k = 0; k < p.steps.size(); k++) {
                Step step = p.steps.get(k);
                Session s = sessions[step.session];
                String outcome = "ok";
                try {
                    switch (step.kind) {
                        case SEND: {
                            TextMessage m = s.createTextMessage("m" + step.n);
                            m.setIntProperty("n", step.n % 7);
                            m.setStringProperty("color", step.n % 3 == 0 ? "red" : "blue");
                            Destination d = step.to == SESSIONS ? s.createTopic(tag + ".t") : s.createQueue(tag + ".q" + step.to);
                            producers[step.session].send(d, m, DeliveryMode.PERSISTENT, 4, 0);
                            break;
                        }
                        case RECEIVE: {
                            // Long only for a message the other run received, which is on its way.
                            boolean coming = expected != null && expected.get(k).startsWith("got");
                            Message m = consumers[step.session].receive(coming ? 5000 : 300);
                            if (m != null) last[step.session] = m;
                            outcome = m == null ? "nothing"
                                : "got " + ((TextMessage) m).getText() + " redelivered=" + m.getJMSRedelivered()
                                    + " count=" + m.getIntProperty("JMSXDeliveryCount");
                            break;
                        }
                        case ACKNOWLEDGE:
                            if (last[step.session] != null) last[step.session].acknowledge();
                            break;
                        case RECOVER: s.recover(); break;
                        case COMMIT: s.commit(); break;
                        case ROLLBACK: s.rollback(); break;
                        case REOPEN:
                            consumers[step.session].close();
                            consumers[step.session] = consumer(s, step.session, p.reads[step.session], step.selector, tag);
                            break;
                    }
                } catch (JMSException e) {
                    outcome = "error " + e.getClass().getSimpleName();
                }
                outcomes.add(outcome);
            }
        }
        return outcomes;
    }

    private static MessageConsumer consumer(Session s, int session, int reads, String selector, String tag) throws JMSException {
        if (reads == QUEUE) return s.createConsumer(s.createQueue(tag + ".q" + session), selector);
        Topic t = s.createTopic(tag + ".t");
        if (reads == TOPIC) return s.createConsumer(t, selector);
        return s.createDurableSubscriber(t, "d" + session, selector, false);
    }

    /** Whether {@code step} belongs to the history of session {@code x}'s consumer. */
    private static boolean concerns(Step step, int x, Program p) {
        if (step.kind != Kind.SEND) return step.session == x;
        return step.session == x || (p.reads[x] == QUEUE ? step.to == x : step.to == SESSIONS);
    }

    private static void usage() {
        System.err.println("usage: BehaviourCompare --factory CLASS --url URL [--herald-url URL] [--seeds FIRST-LAST] [--steps N]");
        System.exit(2);
    }

    private static ConnectionFactory factory(String cls, String url) throws Exception {
        return (ConnectionFactory) Class.forName(cls).getConstructor(String.class).newInstance(url);
    }

    public static void main(String[] args) throws Exception {
        String factoryClass = null, url = null, heraldUrl = "vm://compare";
        long first = 1, lastSeed = 10;
        int length = 500;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--factory": factoryClass = args[++i]; break;
                case "--url": url = args[++i]; break;
                case "--herald-url": heraldUrl = args[++i]; break;
                case "--seeds": {
                    String[] range = args[++i].split("-");
                    first = Long.parseLong(range[0]);
                    lastSeed = Long.parseLong(range[range.length - 1]);
                    break;
                }
                case "--steps": length = Integer.parseInt(args[++i]); break;
                default: usage();
            }
        }
        if (factoryClass == null || url == null) usage();
        ConnectionFactory herald = factory("io.herald.jms.HeraldConnectionFactory", heraldUrl);
        ConnectionFactory reference = factory(factoryClass, url);
        boolean differed = false;
        for (long seed = first; seed <= lastSeed; seed++) {
            Program p = new BehaviourCompare(seed).program(length);
            String tag = "compare.s" + seed;
            List<String> ours = run(herald, p, tag, null);
            List<String> theirs = run(reference, p, tag, ours);
            int at = 0;
            while (at < length && ours.get(at).equals(theirs.get(at))) at++;
            if (at == length) {
                System.out.println("seed " + seed + ": the same for all " + length + " steps");
                continue;
            }
            differed = true;
            int x = p.steps.get(at).session;
            StringBuilder modes = new StringBuilder();
            for (int i = 0; i < SESSIONS; i++) {
                modes.append(i == 0 ? "" : ", ").append("s").append(i).append(' ')
                    .append(p.modes[i] == Session.SESSION_TRANSACTED ? "transacted" : p.modes[i] == Session.CLIENT_ACKNOWLEDGE ? "client" : "auto")
                    .append(" reading ").append(new String[] {"q" + i, "the topic", "durable d" + i}[p.reads[i]]);
            }
            System.out.println("seed " + seed + " (" + modes + "): step " + at + " differs; s" + x + "'s history:");
            for (int j = 0; j <= at; j++) {
                if (concerns(p.steps.get(j), x, p)) {
                    System.out.println("  " + j + ": " + p.steps.get(j) + " -> herald " + ours.get(j) + " / reference " + theirs.get(j));
                }
            }
        }
        System.exit(differed ? 1 : 0);
    }
}
