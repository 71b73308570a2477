package io.herald.jms;

import java.io.Serializable;

import javax.jms.Connection;
import javax.jms.JMSContext;
import javax.jms.JMSException;
import javax.jms.JMSRuntimeException;
import javax.jms.QueueConnection;
import javax.jms.TopicConnection;
import javax.naming.Reference;
import javax.naming.Referenceable;
import javax.naming.StringRefAddr;

/**
 * Herald's ConnectionFactory, configured by URL: {@code vm://NAME} embeds a broker in this
 * JVM, {@code tcp://HOST:PORT} connects to a {@code herald serve} process. Usable as a
 * bean (no-argument constructor and setters) and bindable in JNDI.
 */
public class HeraldConnectionFactory implements javax.jms.ConnectionFactory, javax.jms.QueueConnectionFactory,
        javax.jms.TopicConnectionFactory, Serializable, Referenceable {
    private static final long serialVersionUID = 1L;

    private String url = "vm://localhost";
    private String user;
    private String password;
    private String clientId;
    /** Null: {@link JniProvider}, the one for every URL. Not serialized: a bound factory uses the native one. */
    private transient Provider provider;

    public HeraldConnectionFactory() {}

    public HeraldConnectionFactory(String url) {
        setUrl(url);
    }

    /** A factory whose connections talk to {@code provider} instead of the native library. */
    HeraldConnectionFactory(String url, Provider provider) {
        setUrl(url);
        this.provider = provider;
    }

    public String getUrl() { return url; }

    public void setUrl(String url) {
        if (url == null || url.isEmpty()) throw new IllegalArgumentException("the URL must not be null or empty");
        this.url = url;
    }

    /** Alias of {@link #setUrl}, the name several frameworks use. */
    public void setBrokerURL(String url) { setUrl(url); }

    public String getUser() { return user; }
    public void setUser(String user) { this.user = user; }
    public String getPassword() { return password; }
    public void setPassword(String password) { this.password = password; }
    public String getClientID() { return clientId; }
    /** A client ID every connection from this factory gets (so only one may be open at a time). */
    public void setClientID(String clientId) { this.clientId = clientId; }

    HeraldConnection open(String user, String password, int domain) throws JMSException {
        Provider p = provider;
        return new HeraldConnection(p != null ? p : JniProvider.INSTANCE, url, user, password, clientId, domain);
    }

    @Override public Connection createConnection() throws JMSException { return open(user, password, HeraldConnection.GENERIC); }
    @Override public Connection createConnection(String u, String p) throws JMSException { return open(u, p, HeraldConnection.GENERIC); }
    @Override public QueueConnection createQueueConnection() throws JMSException { return open(user, password, HeraldConnection.QUEUE); }
    @Override public QueueConnection createQueueConnection(String u, String p) throws JMSException { return open(u, p, HeraldConnection.QUEUE); }
    @Override public TopicConnection createTopicConnection() throws JMSException { return open(user, password, HeraldConnection.TOPIC); }
    @Override public TopicConnection createTopicConnection(String u, String p) throws JMSException { return open(u, p, HeraldConnection.TOPIC); }

    @Override public JMSContext createContext() { return createContext(user, password, JMSContext.AUTO_ACKNOWLEDGE); }
    @Override public JMSContext createContext(String u, String p) { return createContext(u, p, JMSContext.AUTO_ACKNOWLEDGE); }
    @Override public JMSContext createContext(int mode) { return createContext(user, password, mode); }

    @Override public JMSContext createContext(String u, String p, int mode) {
        try {
            HeraldConnection c = open(u, p, HeraldConnection.GENERIC);
            try {
                return new HeraldJMSContext(c, mode);
            } catch (JMSRuntimeException e) {
                c.close();
                throw e;
            }
        } catch (JMSException e) {
            throw JmsExceptions.toRuntime(e);
        }
    }

    @Override public Reference getReference() {
        Reference ref = new Reference(getClass().getName(), HeraldObjectFactory.class.getName(), null);
        ref.add(new StringRefAddr("url", url));
        return ref;
    }

    @Override public String toString() {
        return "HeraldConnectionFactory[" + url + "]";
    }
}
