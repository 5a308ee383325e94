package io.agserver.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import io.agserver.protocol.AGError;
import io.agserver.protocol.Undefined;

/**
 * The default codec: sc-formatter's JSON with what JSON.parse and JSON.stringify do in a JS peer.
 *
 * <p>Decoding: see {@link JsValueReader} for how numbers and object keys come out. Documents
 * nested deeper than 1000 levels or with numbers longer than 1000 digits (Jackson's default
 * limits) are not parsed and come back as the message text, where JSON.parse would accept them.
 *
 * <p>Encoding goes through one {@link ObjectMapper} whose generators write as JSON.stringify:
 * numbers in Number#toString form (1e+21, 1.5e-7, no ".0"), NaN and infinities as null, lone
 * surrogates as &#92;ud800 escapes, control characters as lowercase &#92;u001f; byte[]
 * and ByteBuffer as {"base64":true,"data":...}; dates as Date#toJSON; Optionals as their content or null;
 * records and beans as objects (empty beans as {}); null map values as null. A failure is thrown
 * as an AGError named "TypeError", the error JSON.stringify throws (circular structure, BigInt)
 * and that the JS server passes on unchanged; cycles show up as exceeding the nesting limit.
 */
public final class JsonCodec implements AGCodec {

  private static final JsonCodec INSTANCE = new JsonCodec();

  private final ObjectMapper mapper;
  /**
   * The mapper without its flush after each value: inside encodeResponse that flush would hand the
   * text to the writer in two pieces, and joining them cost more than the whole response.
   */
  private final ObjectWriter valueWriter;

  public JsonCodec() {
    JsonFactory factory = JsonFactory.builder()
        .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
        // Interning names from untrusted clients would fill the JVM's string pool.
        .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
        .addDecorator((f, generator) -> new JsGenerator(generator))
        .build();
    mapper = JsonMapper.builder(factory)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        // A JS peer has no wrapper type: it gets an Optional's content, or null when empty. That
        // is the module as it comes (configureAbsentsAsNulls(true) would drop empty properties).
        .addModule(new Jdk8Module())
        .addModule(new JsModule())
        // JSON.stringify leaves out properties whose value is undefined.
        .defaultPropertyInclusion(com.fasterxml.jackson.annotation.JsonInclude.Value.construct(
            com.fasterxml.jackson.annotation.JsonInclude.Include.ALWAYS,
            com.fasterxml.jackson.annotation.JsonInclude.Include.CUSTOM, null, UndefinedFilter.class))
        .build();
    // A JS object key is always a string; a null key becomes "null" as String(null) does.
    mapper.getSerializerProvider().setNullKeySerializer(new NullKeySerializer());
    valueWriter = mapper.writer().without(SerializationFeature.FLUSH_AFTER_WRITE_VALUE);
  }

  public static JsonCodec instance() {
    return INSTANCE;
  }

  /**
   * The configured mapper, for reading and writing with the same rules. It is shared: configure
   * a {@code copy()} rather than this instance.
   */
  public ObjectMapper mapper() {
    return mapper;
  }

  @Override
  public Object decode(String message) {
    if (message == null) {
      return null;
    }
    if (message.equals("#1") || message.equals("#2") || !startsLikeJson(message)) {
      return message;
    }
    try (JsonParser parser = mapper.getFactory().createParser(message)) {
      return JsValueReader.readDocument(parser);
    } catch (IOException | RuntimeException notJson) {
      // sc-formatter hands invalid JSON on as the raw message.
      return message;
    }
  }

  /**
   * One JSON document read as {@link #decode} reads one (the values JSON.parse gives), but strictly:
   * text that is not exactly one JSON value fails with an IllegalArgumentException that says why,
   * where decode would hand the text back as a string.
   */
  public Object parse(String json) {
    if (json == null) {
      throw new IllegalArgumentException("no JSON text");
    }
    try (JsonParser parser = mapper.getFactory().createParser(json)) {
      return JsValueReader.readDocument(parser);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(e.getOriginalMessage() + " at character " + (e.getLocation() == null
          ? "?" : e.getLocation().getCharOffset() + 1), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
  }

  @Override
  public Object decode(ByteBuffer binary) {
    return binary == null ? null : decode(Utf8.decode(binary));
  }

  @Override
  public String encode(Object value) {
    if ("#1".equals(value) || "#2".equals(value)) {
      return (String) value;
    }
    try {
      return mapper.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new AGError("TypeError", e.getOriginalMessage(), e);
    }
  }

  /**
   * The response packet {@code {"rid":rid,field:value}} ({@code {"rid":rid}} when field is null or
   * value is undefined): the text {@link #encode} gives for that map, written without building the
   * map or, for the common plain values, a serializer provider. One of these goes out per RPC.
   */
  public String encodeResponse(Object rid, String field, Object value) {
    // Not a StringWriter: its synchronized, growing StringBuffer cost more than the Map path this
    // one is meant to beat. The generator's own buffers are recycled by the factory either way.
    StringSink out = new StringSink();
    try {
      try (JsonGenerator generator = mapper.createGenerator(out)) {
        generator.writeStartObject();
        generator.writeFieldName("rid");
        writePlainOrMapped(generator, rid);
        if (field != null && value != Undefined.INSTANCE) {
          generator.writeFieldName(field);
          writePlainOrMapped(generator, value);
        }
        generator.writeEndObject();
      }
      return out.text();
    } catch (JsonProcessingException e) {
      throw new AGError("TypeError", e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a string writer does not fail
    }
  }

  /** Strings, ints, longs, booleans and null as their serializers write them; the rest through the mapper. */
  private void writePlainOrMapped(JsonGenerator generator, Object value) throws IOException {
    if (value == null) {
      generator.writeNull();
    } else if (value instanceof String text) {
      generator.writeString(text); // the JsGenerator decoration escapes lone surrogates
    } else if (value instanceof Integer number) {
      generator.writeNumber(number.intValue());
    } else if (value instanceof Long number) {
      generator.writeNumber(number.longValue());
    } else if (value instanceof Boolean bool) {
      generator.writeBoolean(bool);
    } else {
      valueWriter.writeValue(generator, value);
    }
  }

  /** Plain values (maps, lists) to records or beans and back; unknown properties are ignored. */
  public <T> T convert(Object value, Class<T> type) {
    return mapper.convertValue(value, type);
  }

  public <T> T convert(Object value, TypeReference<T> type) {
    return mapper.convertValue(value, type);
  }

  private static final class NullKeySerializer extends StdSerializer<Object> {
    private static final long serialVersionUID = 1L;

    NullKeySerializer() {
      super(Object.class);
    }

    @Override
    public void serialize(Object value, JsonGenerator generator, SerializerProvider provider)
        throws IOException {
      generator.writeFieldName("null");
    }
  }

  /** sc-formatter's /^[ \n\r\t]*[{\[]/ check. */
  private static boolean startsLikeJson(String message) {
    for (int i = 0, n = message.length(); i < n; i++) {
      char c = message.charAt(i);
      if (c == '{' || c == '[') {
        return true;
      }
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return false;
      }
    }
    return false;
  }

  /** The content filter that drops undefined values from maps and properties. */
  public static final class UndefinedFilter {
    @Override
    public boolean equals(Object value) {
      return value == Undefined.INSTANCE;
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }
}
