package io.herald.jms;

import java.util.ArrayList;
import java.util.List;

import javax.jms.Connection;
import javax.jms.JMSException;

import org.junit.After;
import org.junit.Before;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/** Runs each test twice: embedded (vm://) and against a real herald server (tcp://). */
@RunWith(Parameterized.class)
public abstract class JmsTestBase {
    @Parameterized.Parameters(name = "{0}")
    public static List<Object[]> transports() {
        return BrokerTarget.both();
    }

    @Parameterized.Parameter
    public String transport;

    protected BrokerTarget broker;
    protected String url;
    protected HeraldConnectionFactory factory;
    private final List<AutoCloseable> opened = new ArrayList<>();

    @Before
    public void setUpBroker() throws Exception {
        broker = BrokerTarget.start(transport);
        url = broker.url;
        factory = new HeraldConnectionFactory(url);
    }

    @After
    public void closeAll() throws Exception {
        try {
            for (AutoCloseable c : opened) {
                c.close();
            }
        } finally {
            if (broker != null) broker.close();
        }
    }

    /** A started connection closed after the test. */
    protected Connection connection() throws JMSException {
        Connection c = factory.createConnection();
        opened.add(c);
        c.start();
        return c;
    }

    protected <T extends AutoCloseable> T closeLater(T c) {
        opened.add(c);
        return c;
    }
}
