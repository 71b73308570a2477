package io.herald.jms.bench;

import java.io.File;
import java.util.Arrays;

/**
 * Runs {@link JmsBench} against an ActiveMQ Artemis broker embedded in this JVM (the
 * counterpart of Herald's {@code vm://}): {@code EmbeddedArtemis BROKER_XML JmsBench-args...}.
 * The Artemis server jars must be on the classpath; they are reached by reflection so the
 * benchmark compiles without them. Connect with
 * {@code --factory org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory --url vm://0}
 * (the broker.xml must declare the {@code vm://0} acceptor).
 * {@code EmbeddedArtemis BROKER_XML --main CLASS args...} runs another program's main
 * instead, such as {@link BehaviourCompare}.
 */
public final class EmbeddedArtemis {
    private EmbeddedArtemis() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: EmbeddedArtemis BROKER_XML [JmsBench arguments | --main CLASS arguments]");
            System.exit(2);
        }
        Class<?> embedded = Class.forName("org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ");
        Object server = embedded.getConstructor().newInstance();
        embedded.getMethod("setConfigResourcePath", String.class).invoke(server, new File(args[0]).toURI().toString());
        embedded.getMethod("start").invoke(server);
        if (args.length >= 3 && args[1].equals("--main")) {
            Class.forName(args[2]).getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 3, args.length));
        } else {
            JmsBench.main(Arrays.copyOfRange(args, 1, args.length));
        }
    }
}
