package io.herald.jms;

import javax.jms.JMSException;
import javax.jms.MessageFormatException;

public class HeraldTextMessage extends HeraldMessage implements javax.jms.TextMessage {
    String text;

    public HeraldTextMessage() {}

    public HeraldTextMessage(String text) {
        this.text = text;
    }

    @Override public void setText(String t) throws JMSException {
        checkWritable();
        text = t;
    }

    @Override public String getText() { return text; }

    @Override void clearBodyContent() { text = null; }

    @Override public boolean isBodyAssignableTo(@SuppressWarnings("rawtypes") Class c) {
        return text == null || c.isAssignableFrom(String.class);
    }

    @Override public <T> T getBody(Class<T> c) throws JMSException {
        if (!isBodyAssignableTo(c)) throw new MessageFormatException("a TextMessage body cannot be read as " + c.getName());
        return c.cast(text);
    }
}
