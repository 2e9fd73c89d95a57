#include "analysis/profanity.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/tagger.h"
#include "analysis/test_lexicon.h"

namespace chatpipe::analysis {
namespace {

const Profanity& Lists() { return testing::Lists().profanity; }

std::string Base(std::string_view folded) {
  const Profanity::Match m = Lists().MatchWord(folded);
  return m.base < 0 ? "" : std::string(Lists().Base(m.base));
}

std::vector<std::string> Terms(std::string_view text) {
  Scratch s;
  testing::Tokenise(text, &s);
  std::vector<std::string> out;
  for (const Token& t : s.tokens)
    if (t.bad >= 0) out.emplace_back(Lists().Base(t.bad));
  return out;
}

TEST(Profanity, WholeWordsThroughLeetAndStretching) {
  EXPECT_EQ(Base("mierda"), "mierda");
  EXPECT_EQ(Base("m1erda"), "mierda");
  EXPECT_EQ(Base("fuuuck"), "fuck");
  EXPECT_EQ(Base("a$$hole"), "asshole");
  EXPECT_EQ(Base("motherfucker"), "fuck");  // an affix form
  EXPECT_EQ(Base("as"), "");                // "ass" needs its two s
  EXPECT_EQ(Base("scunthorpe"), "");
}

TEST(Profanity, SelfCensoredNeedsTwoRealLetters) {
  EXPECT_EQ(Base("f*ck"), "fuck");
  EXPECT_EQ(Base("s**t"), "shit");
  EXPECT_EQ(Base("m*****"), "");  // one letter and stars: Profanity::MatchStarred, over the message's text
}

TEST(Profanity, WordsInPiecesAreOneWord) {
  EXPECT_EQ(Terms("p.u.t.a"), std::vector<std::string>{"puta"});
  EXPECT_EQ(Terms("f u c k this"), std::vector<std::string>{"fuck"});
  EXPECT_EQ(Terms("mier.da"), std::vector<std::string>{"mierda"});
  EXPECT_EQ(Terms("c u later"), std::vector<std::string>{});
  EXPECT_EQ(Terms("c.t.m"), std::vector<std::string>{"conchetumare"});
  EXPECT_EQ(Terms("hw is pg 42 q 1-10 btw"), std::vector<std::string>{});  // no "q110": "qlo" (culiao)
  EXPECT_EQ(Terms("q l o"), std::vector<std::string>{"culiao"});
}

TEST(Profanity, AllowListDependsOnLanguage) {
  EXPECT_EQ(Terms("hicimos una porra para el partido"), std::vector<std::string>{});
  EXPECT_EQ(Terms("porra, esqueci a carteira"), std::vector<std::string>{"porra"});
  EXPECT_EQ(Terms("pões tu a mesa ou ponho eu?"), std::vector<std::string>{});  // "poes" folded
  EXPECT_EQ(Terms("shut up you poes"), std::vector<std::string>{"poes"});
}

Severity LevelOf(std::string_view folded) {
  const Profanity::Match m = Lists().MatchWord(folded);
  return m.base < 0 ? Severity::kNone : Lists().Level(m.base);
}

TEST(Profanity, EachBaseTermHasItsLevel) {
  for (const char* mild : {"damn", "hell", "crap", "bloody", "shit", "wtf", "ffs", "mierda", "carajo", "joder",
                           "coño", "hostia", "chucha", "weon", "wn", "wea", "huevada", "boludo", "pelotudo", "pinche",
                           "merda", "porra", "caralho", "krl", "pqp", "bosta", "cacete", "babaca", "fodase", "fodido"})
    EXPECT_EQ(LevelOf(mild), Severity::kMild) << mild;
  for (const char* strong : {"fuck", "motherfucker", "cunt", "faggot", "kys", "conchetumare", "ctm", "culiao",
                             "chupapico", "hdp", "cabron", "pendejo", "malparido", "mamaguevo", "fdp", "vtnc", "vsf",
                             "arrombado", "cuzao", "cona"})
    EXPECT_EQ(LevelOf(strong), Severity::kStrong) << strong;
  EXPECT_EQ(LevelOf("weoooon"), Severity::kMild);          // spelling never changes a level
  EXPECT_EQ(LevelOf("c0nch3tum4r3"), Severity::kStrong);
}

TEST(Profanity, PhrasesMarkEveryWord) {
  EXPECT_EQ(Terms("hijo de puta"), std::vector<std::string>(3, "hijo de puta"));
  EXPECT_EQ(Terms("vai tomar no cu"), std::vector<std::string>(2, "no cu"));
  EXPECT_EQ(Terms("c o n c h e t u m a r e"), std::vector<std::string>{"conchetumare"});
  EXPECT_EQ(Terms("y pico"), std::vector<std::string>{});
  EXPECT_EQ(Terms("bloody nose"), std::vector<std::string>{});  // an innocent phrase unmarks
}

// A class in a phrase holds a threat by its shape: an intent, a harm, a target, any of each class's words.
TEST(Profanity, ClassesInPhrasesHoldThreatsByTheirShape) {
  // Named "threat" in the tags ("strong threat: @will @harm @your @body"), every word of it marked.
  EXPECT_EQ(Terms("ill smash your teeth in"), std::vector<std::string>(4, "threat"));
  EXPECT_EQ(Terms("gonna break ur legs"), std::vector<std::string>(4, "threat"));
  EXPECT_EQ(Terms("te reviento la cara"), std::vector<std::string>(4, "threat"));  // longer than "te reviento"
  EXPECT_EQ(Terms("vou-te partir os dentes"), std::vector<std::string>(5, "threat"));
  EXPECT_EQ(Terms("te vamos a quebrar"), std::vector<std::string>(4, "threat"));
  EXPECT_EQ(Terms("tírate de un puente"), std::vector<std::string>(4, "self-harm"));
  // Each shape needs its intent or its target: an accident, a record, a heart, an idiom are none.
  EXPECT_EQ(Terms("did you break your leg skiing?"), std::vector<std::string>{});
  EXPECT_EQ(Terms("gonna break your record"), std::vector<std::string>{});
  EXPECT_EQ(Terms("te voy a romper el corazón"), std::vector<std::string>{});
  EXPECT_EQ(Terms("vou te quebrar um galho"), std::vector<std::string>{});
  EXPECT_EQ(Terms("ill smash, your teeth"), std::vector<std::string>{});  // one clause
  // A word the lexicon learns last (a cue of senses.txt) where a class is wanted: no class, no threat.
  EXPECT_EQ(Terms("ill smash your deburring"), std::vector<std::string>{});
}

// "twatt" with two t's is the hamlet's spelling (allow.txt), cue or not; one t, or three, is the insult.
TEST(Profanity, TwattIsAPlace) {
  EXPECT_EQ(Terms("drove out past twatt to the b&b"), std::vector<std::string>{});
  EXPECT_EQ(Terms("you twatt"), std::vector<std::string>{});
  EXPECT_EQ(Terms("you twattt"), std::vector<std::string>{"twat"});
  EXPECT_EQ(Terms("we stayed in twatt, fitting for our landlord, absolute twat"), std::vector<std::string>{"twat"});
}

TEST(Profanity, ContractionsAreNoBadWords) {
  EXPECT_EQ(Terms("he'll be late"), std::vector<std::string>{});
  EXPECT_EQ(Terms("HE\u2019LL"), std::vector<std::string>{});
  EXPECT_EQ(Terms("fuck's sake"), std::vector<std::string>{"fuck"});
  EXPECT_EQ(Terms("go to hell"), std::vector<std::string>{"hell"});
  // "he'll" without its apostrophe (profanity_phrases.txt), but not after "the" or "to", where a phrase
  // named "hell" holds all three words.
  EXPECT_EQ(Terms("ok hell bring the ladder round"), std::vector<std::string>{});
  const std::vector<std::string> hell_phrase = {"hell", "hell", "hell"};
  EXPECT_EQ(Terms("what the hell be quiet"), hell_phrase);
  EXPECT_EQ(Terms("go to hell be gone"), hell_phrase);
}

TEST(Profanity, CapitalisedNamesWithoutACue) {
  EXPECT_EQ(Terms("Twatt is in Orkney"), std::vector<std::string>{});
  EXPECT_EQ(Terms("see you in Twatt"), std::vector<std::string>{});
  EXPECT_EQ(Terms("you Dick"), std::vector<std::string>{"dick"});
  EXPECT_EQ(Terms("eres un Verga"), std::vector<std::string>{"verga"});
  EXPECT_EQ(Terms("Fucking hell"), (std::vector<std::string>{"fuck", "hell"}));
  EXPECT_EQ(Terms("visitei Fucking na Áustria"), std::vector<std::string>{});
}

// Cue words are read in the message's language: Spanish "a" before a name is "to", English "a" a cue.
TEST(Profanity, CuesAreWordsOfTheMessagesLanguage) {
  EXPECT_EQ(Terms("le dije a Verga que mañana no hay clases"), std::vector<std::string>{});
  EXPECT_EQ(Terms("ayer conocí a Dick en la oficina"), std::vector<std::string>{});
  EXPECT_EQ(Terms("eres un Verga"), std::vector<std::string>{"verga"});
  EXPECT_EQ(Terms("he is such a Dick"), std::vector<std::string>{"dick"});
}

// An innocent phrase that opens with a known name ("dick from", "dick will") spares the word, but not after
// a cue word of the message's language, where it is the insult.
TEST(Profanity, ANamesInnocentPhraseYieldsToACue) {
  EXPECT_EQ(Terms("dick will open the clubhouse at 9"), std::vector<std::string>{});
  EXPECT_EQ(Terms("your dick will fall off"), std::vector<std::string>{"dick"});
  EXPECT_EQ(Terms("ask dick from accounts"), std::vector<std::string>{});
  EXPECT_EQ(Terms("ask that stupid dick from accounts"), std::vector<std::string>{"dick"});
}

// "dick" is English: in Spanish and Portuguese chat it is a name in any case (allow.txt); in English a
// lower-case one is a name only where a phrase says so ("dick from accounts").
TEST(Profanity, DickIsAnInsultOnlyInEnglish) {
  EXPECT_EQ(Terms("mi pana dick llega de aruba el viernes"), std::vector<std::string>{});
  EXPECT_EQ(Terms("o dick vai de goleiro no sábado"), std::vector<std::string>{});
  EXPECT_EQ(Terms("dick from accounts says the invoices went out"), std::vector<std::string>{});
  EXPECT_EQ(Terms("don't be such a dick about it"), std::vector<std::string>{"dick"});
}

// After a title or beside a particle a known name is a name whatever its case; an unknown word is not.
TEST(Profanity, TitlesAndParticlesMakeNamesOfAnyCase) {
  EXPECT_EQ(Terms("mrs fagg from next door says the bins go out wednesday"), std::vector<std::string>{});
  EXPECT_EQ(Terms("pregúntale a la sra. VERGA por las llaves"), std::vector<std::string>{});
  EXPECT_EQ(Terms("omg dick van dyke is on tv"), std::vector<std::string>{});
  EXPECT_EQ(Terms("mr dickhead over there"), std::vector<std::string>{"dickhead"});
  EXPECT_EQ(Terms("mrs fagg is a fag"), std::vector<std::string>{"faggot"});
}

// In a message all in capitals case says nothing, so names are read as Capitalised; a lone shouted
// word, or one in a message with lower case, is the bad word.
TEST(Profanity, NamesInAMessageAllInCapitals) {
  EXPECT_EQ(Terms("HAPPY 90TH BIRTHDAY UNCLE DICK!!"), std::vector<std::string>{});
  EXPECT_EQ(Terms("YOU DICK"), std::vector<std::string>{"dick"});
  EXPECT_EQ(Terms("DICK"), std::vector<std::string>{"dick"});
  EXPECT_EQ(Terms("DICK \U0001F602"), std::vector<std::string>{"dick"});  // still one word
  EXPECT_EQ(Terms("lol COCK is here"), std::vector<std::string>{"cock"});
}

// A name spelled with its accent (Fodé, Maricá) is the name in any case and at a sentence's start, for
// no form of the bad word carries the accent; another accent makes it no name; with none, case decides.
TEST(Profanity, NamesSpelledWithTheirAccentAreNamesInEveryCase) {
  EXPECT_EQ(Terms("FODÉ! que lançamento foi esse"), std::vector<std::string>{});
  EXPECT_EQ(Terms("golo do Fodé's cousin"), std::vector<std::string>{});
  EXPECT_EQ(Terms("Maricá tá lotada hoje"), std::vector<std::string>{});  // a `mid` name, so spelled
  EXPECT_EQ(Terms("vou pra MARICÁ amanhã"), std::vector<std::string>{});
  EXPECT_EQ(Terms("VAI SE FODÊ"), std::vector<std::string>{"foda"});  // Brazil's spelling of the verb
  EXPECT_EQ(Terms("vai se fode"), std::vector<std::string>{"foda"});
  EXPECT_EQ(Terms("MARICA EL QUE LEA ESTO"), std::vector<std::string>{"marica"});
  EXPECT_EQ(Terms("eres un Maricá"), std::vector<std::string>{"marica"});  // a cue still says insult
}

// An ordinary word spelled with an accent no form of the bad word has (Brazil's cágado, a turtle) is
// that word in any case; without the accent the bad word stands.
TEST(Profanity, OrdinaryWordsSpelledWithTheirAccentAreThoseWords) {
  EXPECT_EQ(Terms("o cágado da minha avó fugiu do quintal"), std::vector<std::string>{});
  EXPECT_EQ(Terms("OS CÁGADOS FUGIRAM DE NOVO"), std::vector<std::string>{});
  EXPECT_EQ(Terms("tô cagado de medo"), std::vector<std::string>{"cagar"});
  EXPECT_EQ(Terms("Cagado de medo"), std::vector<std::string>{"cagar"});
}

// A name marked `any` ("dick") is a name in lower case and in shouting too, unless a cue word comes
// right before it, an article two before it, a word after it that makes a bad phrase, or it is the
// message's only word.
TEST(Profanity, NamesMarkedAnyAreNamesInEveryCase) {
  EXPECT_EQ(Terms("ask dick if he still has the drill"), std::vector<std::string>{});
  EXPECT_EQ(Terms("DICK, your dentist appointment got moved to 3pm"), std::vector<std::string>{});
  EXPECT_EQ(Terms("you and dick should come round"), std::vector<std::string>{});  // no article
  EXPECT_EQ(Terms("dick's collecting the kids today"), std::vector<std::string>{});
  EXPECT_EQ(Terms("ur such a dick"), std::vector<std::string>{"dick"});
  EXPECT_EQ(Terms("he was a spineless dick about it"), std::vector<std::string>{"dick"});
  EXPECT_EQ(Terms("go suck dick"), std::vector<std::string>{"dick"});
  EXPECT_EQ(Terms("classic dick move tbh"), (std::vector<std::string>{"dick", "dick"}));  // a phrase
  EXPECT_EQ(Terms("dick"), std::vector<std::string>{"dick"});
  EXPECT_EQ(Terms("bunch of dicks"), std::vector<std::string>{"dick"});  // the plural is no `any` name
}

// "hell's" and "crap's" (a possessive or "is") are the bad word though "hells" and "craps" are no forms.
TEST(Profanity, TheBadWordWithApostropheSIsTheBadWord) {
  EXPECT_EQ(Terms("what the hell's that"), std::vector<std::string>{"hell"});
  EXPECT_EQ(Terms("all the crap\u2019s gotta go"), std::vector<std::string>{"crap"});
  EXPECT_EQ(Terms("craps night is off"), std::vector<std::string>{});  // the dice game
  EXPECT_EQ(Terms("the Hell's Kitchen brunch place"), std::vector<std::string>{});  // an innocent phrase
}

// A name that owns something is still a name; the possessive of a cue's name, or of a word in lower
// case, is still the bad word.
TEST(Profanity, PossessivesOfNamesAreNames) {
  EXPECT_EQ(Terms("my uncle Dick's car is red"), std::vector<std::string>{});
  EXPECT_EQ(Terms("my uncle Dick\u2019s car is red"), std::vector<std::string>{});
  EXPECT_EQ(Terms("what a Dick's move"), std::vector<std::string>{"dick"});
  EXPECT_EQ(Terms("look at that cock's car"), std::vector<std::string>{"cock"});
  EXPECT_EQ(Terms("my uncle dick's car"), std::vector<std::string>{});  // "uncle dick": an innocent phrase
  EXPECT_EQ(Terms("DICK'S CAR"), std::vector<std::string>{});  // "dick" is a name in every case
}

// A bad word with an innocent sense (senses.txt) is spared where another word of the message shows
// that sense, anywhere in it; without such a word, or in a bad phrase, it is the bad word.
TEST(Profanity, AWordOfTheMessageShowsAnInnocentSense) {
  EXPECT_EQ(Terms("the breeder says our bitch is due next week"), std::vector<std::string>{});
  EXPECT_EQ(Terms("our bitch is due next week"), std::vector<std::string>{"bitch"});
  EXPECT_EQ(Terms("the old cock wakes the hens at five"), std::vector<std::string>{});
  EXPECT_EQ(Terms("el cabrón se escapó del rebaño otra vez"), std::vector<std::string>{});
  EXPECT_EQ(Terms("el cabrón de mi jefe"), std::vector<std::string>{"cabron"});
  EXPECT_EQ(Terms("son of a bitch, the puppies ate my shoes"), std::vector<std::string>(4, "son of a bitch"));
  EXPECT_EQ(Terms("KITTEN pic!! what a pussy"), std::vector<std::string>{});  // the cue is anywhere
  // The catch killed in a kitchen spares a threat; a person does not.
  EXPECT_EQ(Terms("el calamar hay que matarlo rápido pa que no sufra"), std::vector<std::string>{});
  EXPECT_EQ(Terms("a ese hay que matarlo rápido"), std::vector<std::string>(3, "threat"));
  // An emoji is a cue too: a laughing face spares a threat as a written laugh does; another face does not.
  EXPECT_EQ(Terms("you're dead meat at the pub tonight \U0001F602"), std::vector<std::string>{});
  EXPECT_EQ(Terms("you're dead meat at the pub tonight \U0001F621"), std::vector<std::string>(3, "threat"));
}

// data/eval/lookalikes.tsv: names, places and ordinary words that only look rude; none is flagged.
TEST(Profanity, LookAlikesAreNeverFlagged) {
  std::ifstream in(DefaultTagDataDir() + "/eval/lookalikes.tsv");
  ASSERT_TRUE(in.good());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string lang, sentiment, level, text;
    std::getline(fields, lang, '\t');
    std::getline(fields, sentiment, '\t');
    std::getline(fields, level, '\t');
    std::getline(fields, text);
    ASSERT_EQ(level, "none") << line;
    ++lines;
    EXPECT_EQ(Terms(text), std::vector<std::string>{}) << text;
  }
  EXPECT_GE(lines, 60);
}

}  // namespace
}  // namespace chatpipe::analysis
