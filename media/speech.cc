#include "media/speech.h"

#include <espeak-ng/speak_lib.h>
#include <opus/opusenc.h>

#include <memory>
#include <mutex>
#include <vector>

namespace chatpipe {
namespace {

// 24 kbit/s is transparent for a synthetic voice (Opus' own guidance for wideband speech is 16-24);
// a minute of speech is ~180 KB.
constexpr opus_int32 kBitrate = 24000;

// Everything espeak-ng's globals hold is used under this mutex only.
std::mutex espeak_mu;
int espeak_rate = 0;  // its output sample rate once initialised; < 0: initialisation failed

// Collects the PCM that espeak-ng hands back (AUDIO_OUTPUT_SYNCHRONOUS calls it inside espeak_Synth).
int CollectPcm(short* wav, int samples, espeak_EVENT* events) {
  if (wav == nullptr || samples <= 0) return 0;
  auto* pcm = static_cast<std::vector<int16_t>*>(events->user_data);
  pcm->insert(pcm->end(), wav, wav + samples);
  return 0;
}

// Under espeak_mu: initialises espeak-ng the first time and returns its sample rate, or < 0.
int InitEspeakLocked() {
  if (espeak_rate != 0) return espeak_rate;
  // DONT_EXIT: a missing espeak-ng-data must be an error here, not exit() of the whole process.
  espeak_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
  if (espeak_rate <= 0) {
    espeak_rate = -1;
  } else {
    espeak_SetSynthCallback(CollectPcm);
  }
  return espeak_rate;
}

bool IsBlank(std::string_view text) {
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') return false;
  return true;
}

// The text as espeak-ng reads it: NUL-terminated, with control characters (espeak's embedded commands
// start with \x01) turned into spaces, so that nothing in a message can steer the synthesiser.
std::string PlainText(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') c = ' ';
  return out;
}

// Under espeak_mu: the PCM of `text` in `voice`.
Status SpeakLocked(const std::string& text, const char* voice, std::vector<int16_t>* pcm) {
  if (espeak_SetVoiceByName(voice) != EE_OK) return Status::Internal("speech_failed", std::string("no espeak-ng voice ") + voice);
  // Plain UTF-8 text: no espeakSSML (markup would be obeyed) and no espeakPHONEMES ([[..]] would be).
  espeak_ERROR e = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, pcm);
  if (e != EE_OK) return Status::Internal("speech_failed", "espeak_Synth failed: " + std::to_string(static_cast<int>(e)));
  return Status::Ok();
}

int AppendOgg(void* user_data, const unsigned char* data, opus_int32 len) {
  static_cast<std::string*>(user_data)->append(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  return 0;
}
int CloseOgg(void*) { return 0; }

struct EncoderDeleter {
  void operator()(OggOpusEnc* e) const { ope_encoder_destroy(e); }
};
struct CommentsDeleter {
  void operator()(OggOpusComments* c) const { ope_comments_destroy(c); }
};

Status OpeError(const char* what, int error) {
  return Status::Internal("speech_failed", std::string(what) + ": " + ope_strerror(error));
}

// Ogg Opus of mono 16-bit `pcm` at `rate` Hz, in memory.
Result<std::string> EncodeOggOpus(const std::vector<int16_t>& pcm, int rate) {
  std::unique_ptr<OggOpusComments, CommentsDeleter> comments(ope_comments_create());
  if (!comments) return Status::Internal("speech_failed", "ope_comments_create failed");
  ope_comments_add(comments.get(), "ENCODER", "chatpipe");
  std::string ogg;
  OpusEncCallbacks callbacks = {AppendOgg, CloseOgg};
  int error = OPE_OK;
  std::unique_ptr<OggOpusEnc, EncoderDeleter> enc(
      ope_encoder_create_callbacks(&callbacks, &ogg, comments.get(), rate, 1, 0, &error));
  if (!enc) return OpeError("ope_encoder_create_callbacks", error);
  if ((error = ope_encoder_ctl(enc.get(), OPUS_SET_BITRATE(kBitrate))) != OPE_OK) return OpeError("bitrate", error);
  if ((error = ope_encoder_ctl(enc.get(), OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))) != OPE_OK) return OpeError("signal", error);
  if ((error = ope_encoder_write(enc.get(), pcm.data(), static_cast<int>(pcm.size()))) != OPE_OK)
    return OpeError("ope_encoder_write", error);
  if ((error = ope_encoder_drain(enc.get())) != OPE_OK) return OpeError("ope_encoder_drain", error);
  return ogg;
}

}  // namespace

const char* SpeechVoice(std::string_view lang) {
  if (lang == "es") return "es";
  // espeak-ng's "pt" is European Portuguese (its pt-pt phonemes and intonation); readers here are
  // mostly Brazilian, to whom it sounds foreign, while pt-br reads European text understandably.
  if (lang == "pt") return "pt-br";
  return "en";
}

std::string SpeechEngineVersion() {
  std::lock_guard<std::mutex> lock(espeak_mu);
  InitEspeakLocked();
  const char* data = nullptr;
  return std::string("espeak-ng ") + espeak_Info(&data);
}

Result<SpeechAudio> Synthesize(std::string_view text, std::string_view lang, const SpeechLimits& limits) {
  if (text.size() > limits.max_text_bytes)
    return Status::TooLarge("too_large", "text of " + std::to_string(text.size()) + " bytes, more than the " +
                                             std::to_string(limits.max_text_bytes) + " spoken");
  if (IsBlank(text)) return Status::InvalidArgument("nothing_to_say", "the text is empty");
  const std::string plain = PlainText(text);
  std::vector<int16_t> pcm;
  int rate = 0;
  {
    std::lock_guard<std::mutex> lock(espeak_mu);
    rate = InitEspeakLocked();
    if (rate < 0) return Status::Internal("speech_failed", "espeak-ng could not be initialised (espeak-ng-data?)");
    if (Status s = SpeakLocked(plain, SpeechVoice(lang), &pcm); !s.ok()) return s;
  }
  if (pcm.empty()) return Status::InvalidArgument("nothing_to_say", "the text gives no sound");
  auto ogg = EncodeOggOpus(pcm, rate);  // outside the lock: encoding is half the work and needs no espeak
  if (!ogg.ok()) return ogg.status();
  return SpeechAudio{std::move(*ogg), static_cast<int64_t>(pcm.size()) * 1000 / rate};
}

}  // namespace chatpipe
