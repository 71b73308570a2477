package io.herald.jms;

import java.util.Collections;
import java.util.Enumeration;

import javax.jms.ConnectionMetaData;

final class HeraldConnectionMetaData implements ConnectionMetaData {
    static final HeraldConnectionMetaData INSTANCE = new HeraldConnectionMetaData();
    static final String VERSION = "0.1.0";

    @Override public String getJMSVersion() { return javax.jms.Message.class.getPackage().getName().startsWith("jakarta") ? "3.1" : "2.0"; }
    @Override public int getJMSMajorVersion() { return javax.jms.Message.class.getPackage().getName().startsWith("jakarta") ? 3 : 2; }
    @Override public int getJMSMinorVersion() { return javax.jms.Message.class.getPackage().getName().startsWith("jakarta") ? 1 : 0; }
    @Override public String getJMSProviderName() { return "Herald"; }
    @Override public String getProviderVersion() { return VERSION; }
    @Override public int getProviderMajorVersion() { return 0; }
    @Override public int getProviderMinorVersion() { return 1; }
    /** Herald sets JMSXDeliveryCount on every received message. */
    @Override public Enumeration<String> getJMSXPropertyNames() { return Collections.enumeration(Collections.singletonList("JMSXDeliveryCount")); }
}
